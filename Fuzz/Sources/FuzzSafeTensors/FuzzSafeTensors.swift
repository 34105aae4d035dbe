import SafeTensors

/// Any bytes: the reader either throws a SafeTensorsError or returns tensors that
/// really tile the data section, each with the size its dtype and shape give.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    check(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}

private func check(_ bytes: UnsafeRawBufferPointer) {
    guard let tensors = try? SafeTensorsFile.validate(bytes) else { return }
    var next = 0
    for tensor in tensors {
        precondition(tensor.dataOffsets.lowerBound == next, "gap or overlap at \(tensor.name)")
        let elements = tensor.shape.reduce(1, *)
        precondition(tensor.dataOffsets.count == elements * tensor.dtype.size, "size of \(tensor.name)")
        next = tensor.dataOffsets.upperBound
    }
    let headerLength = Int(bytes.loadUnaligned(as: UInt64.self).littleEndian)
    precondition(8 + headerLength + next == bytes.count, "data does not end at the end of the buffer")
}
