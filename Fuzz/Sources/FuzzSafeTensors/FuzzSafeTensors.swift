import SafeTensors

/// Any bytes: the reader either throws a SafeTensorsError or returns tensors that
/// really tile the data section, each with the size its dtype and shape give. The
/// streaming scan the ingest runs during its copy, fed the same bytes in pieces, agrees
/// with the reader: unscanned where the reader refuses the file, else the same first
/// tensor holding a NaN or an infinity as a check of the whole buffer.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    check(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}

private func check(_ bytes: UnsafeRawBufferPointer) {
    let scanned = scan(bytes, pieces: 1 + Int(bytes.first ?? 0) % 97)
    guard let tensors = try? SafeTensorsFile.validate(bytes) else {
        precondition(scanned == .unscanned, "the scan judged a file the reader refuses: \(scanned)")
        return
    }
    var next = 0
    for tensor in tensors {
        precondition(tensor.dataOffsets.lowerBound == next, "gap or overlap at \(tensor.name)")
        let elements = tensor.shape.reduce(1, *)
        precondition(tensor.dataOffsets.count == elements * tensor.dtype.size, "size of \(tensor.name)")
        next = tensor.dataOffsets.upperBound
    }
    let headerLength = Int(bytes.loadUnaligned(as: UInt64.self).littleEndian)
    let dataStart = 8 + headerLength
    precondition(dataStart + next == bytes.count, "data does not end at the end of the buffer")
    let firstBad = tensors.first { tensor in
        !FiniteCheck.allFinite(UnsafeRawBufferPointer(rebasing: bytes[(dataStart + tensor.dataOffsets.lowerBound)..<(dataStart + tensor.dataOffsets.upperBound)]),
                               as: tensor.dtype)
    }
    let expected: StreamingScan.Outcome = firstBad.map { .nonFinite(tensor: $0.name) } ?? .allFinite
    precondition(scanned == expected, "the scan found \(scanned), the whole buffer \(expected)")
}

private func scan(_ bytes: UnsafeRawBufferPointer, pieces size: Int) -> StreamingScan.Outcome {
    let scan = StreamingScan(fileSize: bytes.count)
    var start = 0
    while start < bytes.count {
        scan.consume(UnsafeRawBufferPointer(rebasing: bytes[start..<min(bytes.count, start + size)]))
        start += size
    }
    return scan.outcome
}
