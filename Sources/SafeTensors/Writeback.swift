import CLinuxSupport

/// Tells the kernel to start writing a growing file back to disk every ``step`` bytes
/// (`sync_file_range`), so that the fsync at the end waits only for the tail instead
/// of all of it. A hint: a failure changes nothing.
public struct Writeback {
    /// Bytes between two hints.
    public static let step = 8 << 20

    private let descriptor: Int32
    private var written: Int64 = 0
    private var started: Int64 = 0

    public init(descriptor: Int32) {
        self.descriptor = descriptor
    }

    /// `count` more bytes were written at the end of the file.
    public mutating func wrote(_ count: Int) {
        written += Int64(count)
        guard written - started >= Int64(Self.step) else { return }
        _ = mwad_start_writeback(descriptor, started, written - started)
        started = written
    }
}
