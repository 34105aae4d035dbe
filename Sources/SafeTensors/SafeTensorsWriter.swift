#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import SystemPackage

/// A tensor to be written: everything but its data.
public struct TensorSpec: Sendable, Equatable {
    public var name: String
    public var dtype: DType
    public var shape: [Int]

    public init(name: String, dtype: DType, shape: [Int]) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
    }

    public var byteCount: Int { shape.reduce(dtype.size, *) }
}

/// Writes a safetensors file in one pass: header first, then each tensor's bytes in
/// ``layout`` order, then ``finish()`` to flush it to disk.
///
/// The layout is deterministic: tensors sorted by element size (largest first, so
/// every tensor stays aligned to its element size) and then by name; the header is
/// padded with spaces so the data starts at a multiple of 8.
public final class SafeTensorsWriter {
    public let path: String
    /// The tensors in the order ``append(_:)`` expects them, with their offsets.
    public let layout: [TensorInfo]
    private var descriptor: FileDescriptor?
    private var next = 0
    /// Bytes of `layout[next]` written so far by ``appendChunk(_:)``.
    private var partial = 0

    /// Sees every byte written, in order (the header too): a digest of the file
    /// without reading it back.
    private let observer: ((UnsafeRawBufferPointer) -> Void)?
    /// Bytes written (the file's size at ``finish(sync:)``).
    private var written = 0
    /// Present when the disk starts writing the file back as it grows.
    private var writeback: Writeback?

    /// Creates `path` (which must not exist) and writes the header.
    /// With `startWriteback`, the disk starts writing the file back as it grows (for a
    /// file about to be fsynced; not for one that may never need to reach the disk).
    /// With `overwrite`, an existing file at `path` is written over in place and cut to
    /// size at the end: its pages, still in the page cache, are reused rather than new
    /// ones allocated (a scratch file rewritten at every update).
    public init(path: String, tensors: [TensorSpec], metadata: [String: String], startWriteback: Bool = true,
                overwrite: Bool = false, observer: ((UnsafeRawBufferPointer) -> Void)? = nil) throws(SafeTensorsError) {
        self.path = path
        self.observer = observer
        layout = Self.layout(of: tensors)
        do {
            descriptor = try FileDescriptor.open(
                FilePath(path), .writeOnly, options: overwrite ? [.create, .closeOnExec] : [.create, .exclusiveCreate, .closeOnExec],
                permissions: [.ownerReadWrite, .groupRead, .otherRead])
        } catch { throw failure(error) }
        if startWriteback, let descriptor { writeback = Writeback(descriptor: descriptor.rawValue) }
        let header = Self.header(layout: layout, metadata: metadata)
        try write(header)
    }

    deinit { try? descriptor?.close() }

    /// Appends the data of the next tensor in ``layout``; its size must match.
    public func append(_ bytes: UnsafeRawBufferPointer) throws(SafeTensorsError) {
        let tensor = try current()
        guard partial == 0, bytes.count == tensor.dataOffsets.count else {
            throw SafeTensorsError(file: path, tensor: tensor.name,
                                   rule: .sizeMismatch(expected: tensor.dataOffsets.count - partial, actual: bytes.count))
        }
        try appendChunk(bytes)
    }

    /// Appends part of the next tensor's data: a large tensor can be written in pieces
    /// without holding all of it in memory. The pieces must add up to its size.
    public func appendChunk(_ bytes: UnsafeRawBufferPointer) throws(SafeTensorsError) {
        let tensor = try current()
        let remaining = tensor.dataOffsets.count - partial
        guard bytes.count <= remaining else {
            throw SafeTensorsError(file: path, tensor: tensor.name, rule: .sizeMismatch(expected: remaining, actual: bytes.count))
        }
        try write(bytes)
        partial += bytes.count
        if partial == tensor.dataOffsets.count {
            next += 1
            partial = 0
        }
    }

    private func current() throws(SafeTensorsError) -> TensorInfo {
        while partial == 0, next < layout.count, layout[next].dataOffsets.isEmpty { next += 1 }  // nothing to write
        guard next < layout.count else {
            throw SafeTensorsError(file: path, rule: .writeFailed("more tensors appended than the header lists"))
        }
        return layout[next]
    }

    /// Checks every tensor was written, then fsyncs (unless `sync` is false: the
    /// caller makes the file durable, or does not need it to be) and closes the file.
    public func finish(sync: Bool = true) throws(SafeTensorsError) {
        // Zero-byte tensors at the end need no append.
        while next < layout.count, layout[next].dataOffsets.isEmpty { next += 1 }
        guard next == layout.count else {
            throw SafeTensorsError(file: path, rule: .writeFailed("only \(next) of \(layout.count) tensors were written"))
        }
        guard let fd = descriptor else { return }
        descriptor = nil
        guard ftruncate(fd.rawValue, off_t(written)) == 0 else {  // an overwritten file may have been longer
            let text = String(cString: strerror(errno))
            try? fd.close()
            throw SafeTensorsError(file: path, rule: .writeFailed("ftruncate: \(text)"))
        }
        guard !sync || fsync(fd.rawValue) == 0 else {
            let text = String(cString: strerror(errno))
            try? fd.close()
            throw SafeTensorsError(file: path, rule: .writeFailed("fsync: \(text)"))
        }
        do { try fd.close() } catch { throw failure(error) }
    }

    private func write(_ bytes: UnsafeRawBufferPointer) throws(SafeTensorsError) {
        guard let fd = descriptor else { throw SafeTensorsError(file: path, rule: .writeFailed("already finished")) }
        do { _ = try fd.writeAll(bytes) } catch { throw failure(error) }
        observer?(bytes)
        written += bytes.count
        writeback?.wrote(bytes.count)
    }

    private func write(_ bytes: [UInt8]) throws(SafeTensorsError) {
        let failed = bytes.withUnsafeBytes { raw in Result { () throws(SafeTensorsError) in try write(raw) } }
        try failed.get()
    }

    private func failure(_ error: any Error) -> SafeTensorsError {
        SafeTensorsError(file: path, rule: .writeFailed(String(describing: error)))
    }
}

extension SafeTensorsWriter {
    /// The deterministic order and offsets of `tensors` in the file.
    static func layout(of tensors: [TensorSpec]) -> [TensorInfo] {
        let ordered = tensors.sorted { a, b in
            a.dtype.size != b.dtype.size ? a.dtype.size > b.dtype.size : a.name.utf8.lexicographicallyPrecedes(b.name.utf8)
        }
        var offset = 0
        return ordered.map { spec in
            defer { offset += spec.byteCount }
            return TensorInfo(name: spec.name, dtype: spec.dtype, shape: spec.shape,
                              dataOffsets: offset..<(offset + spec.byteCount))
        }
    }

    /// The 8-byte length and the JSON header, padded with spaces to a multiple of 8.
    static func header(layout: [TensorInfo], metadata: [String: String]) -> [UInt8] {
        var json = "{"
        var fields: [String] = []
        if !metadata.isEmpty {
            let pairs = metadata.keys.sorted().map { "\(jsonString($0)):\(jsonString(metadata[$0]!))" }
            fields.append("\"__metadata__\":{\(pairs.joined(separator: ","))}")
        }
        for tensor in layout {
            let shape = tensor.shape.map(String.init).joined(separator: ",")
            let offsets = "\(tensor.dataOffsets.lowerBound),\(tensor.dataOffsets.upperBound)"
            fields.append("\(jsonString(tensor.name)):{\"dtype\":\"\(tensor.dtype.rawValue)\",\"shape\":[\(shape)],\"data_offsets\":[\(offsets)]}")
        }
        json += fields.joined(separator: ",") + "}"
        var body = Array(json.utf8)
        body.append(contentsOf: repeatElement(UInt8(ascii: " "), count: (8 - body.count % 8) % 8))
        return withUnsafeBytes(of: UInt64(body.count).littleEndian, Array.init) + body
    }

    /// A JSON string literal for `text`.
    static func jsonString(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
