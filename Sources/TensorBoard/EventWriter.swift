import Foundation
import SwiftProtobuf

/// Appends events to a TensorBoard event file of its own, as TensorBoard's writers
/// do: `events.out.tfevents.<seconds>.<host>.mwad` in `directory`, opened with a
/// `file_version` event, each record framed and checksummed as ``RecordReader``
/// reads it, and fsynced as it is written, so that a reader never waits on a buffer
/// and a crash leaves at most an incomplete last record, which readers skip.
public final class EventWriter {
    public let path: String
    private let fd: Int32

    /// Creates the file (and `directory`); `now` dates it.
    public init(directory: String, now: Date = Date()) throws(TensorBoardError) {
        do { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) } catch {
            throw .unwritable(path: directory, reason: error.localizedDescription)
        }
        let host = ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? "localhost"
        var path = "\(directory)/events.out.tfevents.\(Int(now.timeIntervalSince1970)).\(host).mwad"
        var fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0o644)
        var attempt = 1
        while fd < 0, errno == EEXIST {  // two starts in one second
            attempt += 1
            path = "\(directory)/events.out.tfevents.\(Int(now.timeIntervalSince1970)).\(host).mwad.\(attempt)"
            fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0o644)
        }
        guard fd >= 0 else { throw .unwritable(path: path, reason: String(cString: strerror(errno))) }
        self.path = path
        self.fd = fd
        var version = Tensorboard_Event()
        version.wallTime = now.timeIntervalSince1970
        version.fileVersion = "brain.Event:2"
        try write(version)
    }

    deinit { close(fd) }

    /// Appends one event of scalar summaries (`tag` → value) at `step`.
    public func scalars(_ values: [(tag: String, value: Double)], step: Int64, at time: Date = Date()) throws(TensorBoardError) {
        var summary = Tensorboard_Summary()
        summary.value = values.map { item in
            var value = Tensorboard_Summary.Value()
            value.tag = item.tag
            value.simpleValue = Float(item.value)
            return value
        }
        var event = Tensorboard_Event()
        event.wallTime = time.timeIntervalSince1970
        event.step = step
        event.summary = summary
        try write(event)
    }

    /// Appends one text summary (`tag` → Markdown), shown by TensorBoard's Text tab: a
    /// string tensor with the `text` plugin's metadata, as `SummaryWriter.add_text` writes it.
    public func text(_ tag: String, _ markdown: String, step: Int64, at time: Date = Date()) throws(TensorBoardError) {
        var value = Tensorboard_Summary.Value()
        value.tag = tag
        value.metadata.pluginData.pluginName = "text"
        value.tensor.dtype = .dtString
        value.tensor.stringVal = [Data(markdown.utf8)]
        var event = Tensorboard_Event()
        event.wallTime = time.timeIntervalSince1970
        event.step = step
        event.summary.value = [value]
        try write(event)
    }

    /// Marks a restart at `step` (a `SessionLog` with status START): TensorBoard's
    /// reader drops every event of this file written before it at `step` or later, so
    /// an abandoned run's points stop showing beside the new run's. (Hand-encoded: the
    /// project's minimal proto has no SessionLog; Event field 7, SessionLog.status 1.)
    public func restart(at step: Int64, time: Date = Date()) throws(TensorBoardError) {
        var data: [UInt8] = [0x09] + withUnsafeBytes(of: time.timeIntervalSince1970.bitPattern.littleEndian, Array.init)
        data += [0x10] + Self.varint(UInt64(bitPattern: step))
        data += [0x3A, 0x02, 0x08, 0x01]  // session_log (field 7) { status: START }
        try append(Self.frame(data))
    }

    static func varint(_ value: UInt64) -> [UInt8] {
        var value = value, bytes: [UInt8] = []
        repeat {
            bytes.append(UInt8(value & 0x7F) | (value > 0x7F ? 0x80 : 0))
            value >>= 7
        } while value > 0
        return bytes
    }

    /// Appends `event` as one record and fsyncs the file.
    public func write(_ event: Tensorboard_Event) throws(TensorBoardError) {
        let data: [UInt8]
        do { data = try event.serializedBytes() } catch { throw .unwritable(path: path, reason: "\(error)") }
        try append(Self.frame(data))
    }

    private func append(_ record: [UInt8]) throws(TensorBoardError) {
        var done = 0
        while done < record.count {
            let wrote = record.withUnsafeBytes { Foundation.write(fd, $0.baseAddress! + done, record.count - done) }
            if wrote < 0, errno == EINTR { continue }
            guard wrote > 0 else { throw .unwritable(path: path, reason: String(cString: strerror(errno))) }
            done += wrote
        }
        guard fsync(fd) == 0 else { throw .unwritable(path: path, reason: "fsync: \(String(cString: strerror(errno)))") }
    }

    /// `data` as one TFRecord: length, its masked CRC, the data, its masked CRC.
    public static func frame(_ data: [UInt8]) -> [UInt8] {
        var length = withUnsafeBytes(of: UInt64(data.count).littleEndian, Array.init)
        let lengthCRC = withUnsafeBytes(of: CRC32C.masked(CRC32C.checksum(length)).littleEndian, Array.init)
        let dataCRC = withUnsafeBytes(of: CRC32C.masked(CRC32C.checksum(data)).littleEndian, Array.init)
        length += lengthCRC
        return length + data + dataCRC
    }
}
