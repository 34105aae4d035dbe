#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The header of a safetensors file, read with `pread` and checked against the file's
/// size, without mapping it: for looking at a file another process may still be
/// writing (a trainer that saves in place), where a map could fault on a truncation.
public struct SafeTensorsHeader: Sendable {
    /// The tensors the header lists, in data order.
    public var tensors: [TensorInfo]
    /// The `__metadata__` map, if any.
    public var metadata: [String: String]?

    /// Reads and validates the header of `path`. Every rule is checked, including that
    /// the data the header describes fills the file exactly, so a file still being
    /// written fails (``SafeTensorsError/Rule/dataTruncated(expected:available:)``).
    public static func read(path: String) throws(SafeTensorsError) -> SafeTensorsHeader {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw failure(path, "open") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw failure(path, "fstat") }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw SafeTensorsError(file: path, rule: .unreadable("not a regular file")) }
        let size = Int(info.st_size)
        var lengthBytes = [UInt8](repeating: 0, count: 8)
        guard try readFully(fd, into: &lengthBytes, at: 0, path: path) == 8 else {
            throw SafeTensorsError(file: path, rule: .fileTooSmall(size: size))
        }
        let length = lengthBytes.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        // The parser reports a length too large or beyond the file; only what it
        // may read is read.
        var prefix = lengthBytes
        if length <= maxHeaderLength, 8 + Int(length) <= size {
            var header = [UInt8](repeating: 0, count: Int(length))
            guard try readFully(fd, into: &header, at: 8, path: path) == header.count else {
                throw SafeTensorsError(file: path, rule: .headerBeyondFile(length: length, fileSize: size))
            }
            prefix += header
        }
        let parsed = prefix.withUnsafeBytes { raw in Result { () throws(HeaderIssue) in try HeaderParser.parse(raw, fileSize: size) } }
        switch parsed {
        case .success(let header): return SafeTensorsHeader(tensors: header.tensors, metadata: header.metadata)
        case .failure(let issue): throw SafeTensorsError(file: path, tensor: issue.tensor, rule: issue.rule)
        }
    }

    private static func readFully(_ fd: Int32, into buffer: inout [UInt8], at offset: Int, path: String) throws(SafeTensorsError) -> Int {
        var done = 0
        while done < buffer.count {
            let count = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, $0.count - done, off_t(offset + done)) }
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else { throw failure(path, "pread") }
            if count == 0 { break }
            done += count
        }
        return done
    }

    private static func failure(_ path: String, _ call: String) -> SafeTensorsError {
        SafeTensorsError(file: path, rule: .unreadable("\(call): \(String(cString: strerror(errno)))"))
    }
}
