/// A validated, memory-mapped safetensors file.
///
/// Opening checks every rule of the format (see ``SafeTensorsError/Rule``); once open,
/// each tensor's bytes are a slice of the map.
public final class SafeTensorsFile: Sendable {
    public let path: String
    /// Tensors in the order of their data in the file.
    public let tensors: [TensorInfo]
    /// The `__metadata__` map, if the file has one.
    public let metadata: [String: String]?
    private let file: MappedFile
    private let dataStart: Int
    private let index: [String: Int]

    /// Maps and validates the file at `path`.
    public convenience init(path: String) throws(SafeTensorsError) {
        try self.init(mapped: MappedFile(path: path))
    }

    /// Validates an already mapped file.
    public init(mapped: MappedFile) throws(SafeTensorsError) {
        let header: ParsedHeader
        do { header = try HeaderParser.parse(mapped.bytes) } catch {
            throw SafeTensorsError(file: mapped.path, tensor: error.tensor, rule: error.rule)
        }
        path = mapped.path
        file = mapped
        tensors = header.tensors
        metadata = header.metadata
        dataStart = header.dataStart
        index = Dictionary(uniqueKeysWithValues: header.tensors.enumerated().map { ($1.name, $0) })
    }

    /// The tensor called `name`, if present.
    public func tensor(named name: String) -> TensorInfo? {
        index[name].map { tensors[$0] }
    }

    /// The raw little-endian bytes of `tensor`, valid while this object lives.
    public func bytes(of tensor: TensorInfo) -> UnsafeRawBufferPointer {
        let range = (dataStart + tensor.dataOffsets.lowerBound)..<(dataStart + tensor.dataOffsets.upperBound)
        return UnsafeRawBufferPointer(rebasing: file.bytes[range])
    }

    /// The whole file as mapped (for hashing without a second read).
    public var fileBytes: UnsafeRawBufferPointer { file.bytes }
}

extension SafeTensorsFile {
    /// Validates an in-memory buffer without a file (for fuzzing and tools); returns the
    /// tensors in data order.
    public static func validate(_ bytes: UnsafeRawBufferPointer, name: String = "<buffer>") throws(SafeTensorsError) -> [TensorInfo] {
        do { return try HeaderParser.parse(bytes).tensors } catch {
            throw SafeTensorsError(file: name, tensor: error.tensor, rule: error.rule)
        }
    }
}
