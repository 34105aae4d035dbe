import SafeTensors

/// The weighted sum of every tensor of every member: merged = Σ w_i · tensor_i.
///
/// LoRA A and B factors (and DoRA magnitudes, `modules_to_save` copies) are averaged
/// as parameters, as checkpoint averaging does. The output has the members' dtypes;
/// F32, F16 and BF16 accumulate in F32, F64 in F64.
public enum LinearMerge {
    /// Checks the members agree, then writes the merge to `path` (which must not
    /// exist) with `metadata` in its header, and fsyncs it.
    public static func write(_ inputs: [MergeInput], to path: String, metadata: [String: String]) throws(MergeError) {
        guard let reference = inputs.last else { throw .noMembers }
        try checkCompatible(inputs, reference: reference)
        let specs = reference.file.tensors.map { TensorSpec(name: $0.name, dtype: $0.dtype, shape: $0.shape) }
        let writer = try output { () throws(SafeTensorsError) in try SafeTensorsWriter(path: path, tensors: specs, metadata: metadata) }
        var scratch = Scratch(capacity: writer.layout.map(\.dataOffsets.count).max() ?? 0)
        // The inputs own the maps that the tensor byte views point into.
        try withExtendedLifetime(inputs) { () throws(MergeError) in
            for tensor in writer.layout {
                let bytes = try merged(tensor, inputs, &scratch)
                try output { () throws(SafeTensorsError) in try writer.append(bytes) }
            }
        }
        try output { () throws(SafeTensorsError) in try writer.finish() }
    }

    private static func output<T>(_ body: () throws(SafeTensorsError) -> T) throws(MergeError) -> T {
        do { return try body() } catch { throw .output(error) }
    }

    /// Every member has exactly the reference's tensors, dtypes and shapes.
    public static func checkCompatible(_ inputs: [MergeInput], reference: MergeInput) throws(MergeError) {
        for input in inputs where input.file !== reference.file {
            for tensor in reference.file.tensors {
                guard let other = input.file.tensor(named: tensor.name) else {
                    throw .tensorMissing(tensor: tensor.name, presentIn: reference.name, missingFrom: input.name)
                }
                guard other.dtype == tensor.dtype else {
                    throw .dtypeMismatch(tensor: tensor.name, first: input.name, firstType: other.dtype,
                                         second: reference.name, secondType: tensor.dtype)
                }
                guard other.shape == tensor.shape else {
                    throw .shapeMismatch(tensor: tensor.name, first: input.name, firstShape: other.shape,
                                         second: reference.name, secondShape: tensor.shape)
                }
            }
            if let extra = input.file.tensors.first(where: { reference.file.tensor(named: $0.name) == nil }) {
                throw .tensorMissing(tensor: extra.name, presentIn: input.name, missingFrom: reference.name)
            }
        }
    }

    /// The merged bytes of `tensor`, in `scratch`'s output buffer.
    private static func merged(_ tensor: TensorInfo, _ inputs: [MergeInput], _ scratch: inout Scratch) throws(MergeError) -> UnsafeRawBufferPointer {
        let count = tensor.elementCount
        let finite: Bool
        if tensor.dtype == .f64 {
            finite = sum(tensor, inputs, into: UnsafeMutableBufferPointer(rebasing: scratch.doubles[..<count]))
        } else {
            finite = sum(tensor, inputs, into: UnsafeMutableBufferPointer(rebasing: scratch.floats[..<count]))
        }
        guard finite else { throw .nonFinite(tensor: tensor.name, member: firstNonFinite(tensor, inputs)) }
        let out = UnsafeMutableRawBufferPointer(rebasing: scratch.output[..<tensor.dataOffsets.count])
        if tensor.dtype == .f64 {
            ElementCodec.encode(UnsafeBufferPointer(rebasing: scratch.doubles[..<count]), as: .f64, into: out)
        } else {
            ElementCodec.encode(UnsafeBufferPointer(rebasing: scratch.floats[..<count]), as: tensor.dtype, into: out)
        }
        return UnsafeRawBufferPointer(out)
    }

    /// Σ w_i · x_i into `acc`; false when the result is not all finite. A NaN or an
    /// infinity in any input always reaches the sum (weights are never 0), so checking
    /// the sum once is enough; the culprit is looked for only on failure.
    private static func sum<T: BinaryFloatingPoint>(_ tensor: TensorInfo, _ inputs: [MergeInput],
                                                    into acc: UnsafeMutableBufferPointer<T>) -> Bool {
        acc.update(repeating: 0)
        for input in inputs {
            let info = input.file.tensor(named: tensor.name)!
            ElementCodec.accumulate(input.file.bytes(of: info), as: tensor.dtype, weight: T(input.weight), into: acc)
        }
        return acc.allSatisfy { $0.isFinite }
    }

    private static func firstNonFinite(_ tensor: TensorInfo, _ inputs: [MergeInput]) -> String? {
        inputs.first { input in
            let info = input.file.tensor(named: tensor.name)!
            return !ElementCodec.allFinite(input.file.bytes(of: info), as: tensor.dtype)
        }?.name
    }
}

/// Buffers reused from tensor to tensor, sized for the largest.
struct Scratch: ~Copyable {
    let floats: UnsafeMutableBufferPointer<Float>
    let doubles: UnsafeMutableBufferPointer<Double>
    let output: UnsafeMutableRawBufferPointer

    init(capacity bytes: Int) {
        floats = .allocate(capacity: bytes / 2 + 1)
        doubles = .allocate(capacity: bytes / 8 + 1)
        output = .allocate(byteCount: bytes + 1, alignment: 16)
    }

    deinit {
        floats.deallocate()
        doubles.deallocate()
        output.deallocate()
    }
}
