import SafeTensors

/// The weighted sum of every tensor of every member: merged = Σ w_i · tensor_i.
///
/// LoRA A and B factors (and DoRA magnitudes, `modules_to_save` copies) are averaged
/// as parameters, as checkpoint averaging does. The output has the members' dtypes;
/// F32, F16 and BF16 accumulate in F32, F64 in F64.
public enum LinearMerge {
    /// Elements merged per chunk: the working memory is a few chunks, whatever the
    /// adapter's or the window's size.
    static let chunkElements = 1 << 20

    /// Checks the members agree, then writes the merge to `path` (which must not
    /// exist) with `metadata` in its header, and fsyncs it.
    public static func write(_ inputs: [MergeInput], to path: String, metadata: [String: String]) throws(MergeError) {
        try write(inputs, to: MergeOutput(path: path, metadata: metadata))
    }

    /// Checks the members agree, then writes the merge to `output`. Tensors are
    /// streamed from the members' maps in chunks, each chunk split across the cores,
    /// and written in one pass.
    public static func write(_ inputs: [MergeInput], to output: MergeOutput) throws(MergeError) {
        guard let reference = inputs.last else { throw .noMembers }
        try checkCompatible(inputs, reference: reference)
        let specs = reference.file.tensors.map { TensorSpec(name: $0.name, dtype: $0.dtype, shape: $0.shape) }
        let writer = try output.open(specs)
        let workspace = Workspace(chunk: chunkElements)
        // The inputs own the maps that the terms' pointers point into.
        try withExtendedLifetime(inputs) { () throws(MergeError) in
            for tensor in writer.layout where tensor.elementCount > 0 {
                try streamAverage(tensor, inputs: inputs, workspace: workspace, writer: writer)
            }
        }
        try output.finish(writer)
    }

    /// Writes the weighted average of `tensor` over `inputs` (whose maps the caller
    /// keeps alive) in chunks.
    static func streamAverage(_ tensor: TensorInfo, inputs: [MergeInput], workspace: Workspace,
                              writer: SafeTensorsWriter) throws(MergeError) {
        let terms = inputs.map { input in
            Term(base: input.file.bytes(of: input.file.tensor(named: tensor.name)!).baseAddress!,
                 dtype: tensor.dtype, weight: input.weight)
        }
        try stream(tensor, terms: terms, workspace: workspace, inputs: inputs, writer: writer)
    }

    private static func stream(_ tensor: TensorInfo, terms: [Term], workspace: Workspace, inputs: [MergeInput],
                               writer: SafeTensorsWriter) throws(MergeError) {
        var offset = 0
        while offset < tensor.elementCount {
            let count = min(workspace.chunk, tensor.elementCount - offset)
            guard workspace.merge(terms, offset: offset, count: count, dtype: tensor.dtype) else {
                throw .nonFinite(tensor: tensor.name, member: firstNonFinite(tensor, inputs))
            }
            let bytes = UnsafeRawBufferPointer(start: workspace.output, count: count * tensor.dtype.size)
            do { try writer.appendChunk(bytes) } catch { throw .output(error) }
            offset += count
        }
    }

    /// The first tensor of `file` holding a NaN or an infinity, if any: such a member
    /// would make every merge of its window fail, so the daemon refuses it on ingest.
    public static func firstNonFiniteTensor(in file: SafeTensorsFile) -> String? {
        withExtendedLifetime(file) {
            file.tensors.first { !FiniteCheck.allFinite(file.bytes(of: $0), as: $0.dtype) }?.name
        }
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

    private static func firstNonFinite(_ tensor: TensorInfo, _ inputs: [MergeInput]) -> String? {
        inputs.first { input in
            let info = input.file.tensor(named: tensor.name)!
            return !FiniteCheck.allFinite(input.file.bytes(of: info), as: tensor.dtype)
        }?.name
    }
}
