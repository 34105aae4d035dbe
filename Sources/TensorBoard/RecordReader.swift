import Foundation

/// Reads the records of a TFRecord file (TensorBoard's event files) from an offset,
/// one at a time, without holding the file in memory. Each record is
///
///     uint64 length (little-endian) · uint32 masked CRC-32C of the length bytes
///     · data[length] · uint32 masked CRC-32C of the data
///
/// and both checksums are checked. A file is appended to while it is read: a record
/// whose bytes are not all there yet is ``Next/incomplete`` (read it again later from
/// the same offset), never an error.
public struct RecordReader: ~Copyable {
    /// What the next read found.
    public enum Next: Equatable, Sendable {
        /// A whole record, checked; `end` is the offset after it.
        case record(Data, end: UInt64)
        /// The file ends inside the next record (or at its start): nothing more yet.
        case incomplete
        /// The length's checksum is wrong: nothing after `offset` can be trusted.
        case badLength(offset: UInt64)
        /// The data's checksum is wrong; the record ends at `end`, where reading may go on.
        case badData(offset: UInt64, end: UInt64)
    }

    /// The largest record read; a length beyond it is taken for garbage (event records
    /// are summaries, kilobytes; a graph can be megabytes).
    public static let maximumLength: UInt64 = 256 << 20

    private let fd: Int32
    public let path: String

    /// Opens `path` for reading.
    public init(path: String) throws(TensorBoardError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .unreadable(path: path, reason: String(cString: strerror(errno))) }
        self.fd = fd
        self.path = path
    }

    deinit { close(fd) }

    /// The record at `offset`.
    public func next(at offset: UInt64) throws(TensorBoardError) -> Next {
        guard let header = try read(12, at: offset) else { return .incomplete }
        let lengthBytes = Array(header[0..<8])
        let length = lengthBytes.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }.littleEndian
        let lengthCRC = header.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 8, as: UInt32.self) }.littleEndian
        guard CRC32C.masked(CRC32C.checksum(lengthBytes)) == lengthCRC, length <= Self.maximumLength else {
            return .badLength(offset: offset)
        }
        let end = offset + 12 + length + 4
        guard let body = try read(Int(length) + 4, at: offset + 12) else { return .incomplete }
        let data = body.prefix(Int(length))
        let dataCRC = body.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: Int(length), as: UInt32.self) }.littleEndian
        guard data.withUnsafeBytes({ CRC32C.masked(CRC32C.checksum($0)) }) == dataCRC else {
            return .badData(offset: offset, end: end)
        }
        return .record(Data(data), end: end)
    }

    /// Exactly `count` bytes at `offset`, or nil where the file is shorter.
    private func read(_ count: Int, at offset: UInt64) throws(TensorBoardError) -> [UInt8]? {
        var bytes = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let got = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, count - done, off_t(offset) + off_t(done)) }
            if got < 0, errno == EINTR { continue }
            guard got >= 0 else { throw .unreadable(path: path, reason: String(cString: strerror(errno))) }
            if got == 0 { return nil }
            done += got
        }
        return bytes
    }
}
