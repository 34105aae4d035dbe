import Foundation

/// The few POSIX file operations that mwad's durable writes share.
public enum Posix {
    /// `strerror(errno)`, read at once (before anything else can change errno).
    public static func errnoText(_ code: Int32 = errno) -> String { String(cString: strerror(code)) }

    /// The name of the user this process runs as (its uid if it has none), for messages
    /// about permissions. Looked up once: it cannot change, and the daemon's loop asks
    /// at every pass while something is unreadable.
    public static let userName: String = {
        let uid = geteuid()
        guard let entry = getpwuid(uid), let name = entry.pointee.pw_name else { return "uid \(uid)" }
        return String(cString: name)
    }()

    /// The name of user `uid` (`uid N` where it has none).
    public static func userName(of uid: uid_t) -> String {
        guard let entry = getpwuid(uid), let name = entry.pointee.pw_name else { return "uid \(uid)" }
        return "\(String(cString: name)) (uid \(uid))"
    }

    /// Makes a new directory `PREFIX` + six random characters (`mkdtemp(3)`), with
    /// `mode`; returns its path, or the errno text when it could not.
    public static func makeTemporaryDirectory(prefix: String, mode: mode_t = 0o700) -> Result<String, PosixError> {
        var template = Array("\(prefix)XXXXXX".utf8CString)
        guard mkdtemp(&template) != nil else { return .failure(PosixError(errno)) }
        if mode != 0o700 { chmod(template, mode) }  // mkdtemp always makes 0700
        return .success(String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }

    /// Writes `text` to stderr whole, or drops it: a reader that went away (EPIPE: the
    /// trainer that read mwad's log was killed, `| head` closed), a full disk or a
    /// closed descriptor costs the line, never the process, as FileHandle's write
    /// (which traps on an error) would.
    public static func writeToStandardError(_ text: String) {
        writeAll(STDERR_FILENO, text)
    }

    /// Writes `text` to `fd` whole; false when it could not (EPIPE: the reader is
    /// gone), with no trap and no SIGPIPE (the daemon ignores it).
    @discardableResult
    public static func writeAll(_ fd: Int32, _ text: String) -> Bool {
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if written > 0 {
                bytes = bytes.dropFirst(written)
            } else if written < 0, errno == EINTR {
                continue
            } else {
                return false
            }
        }
        return true
    }

    /// fsyncs the directory at `path`, so that renames and creations in it are durable.
    @discardableResult
    public static func syncDirectory(_ path: String) -> Result<Void, PosixError> {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return .failure(PosixError(errno)) }
        defer { close(fd) }
        return fsync(fd) == 0 ? .success(()) : .failure(PosixError(errno))
    }
}

/// An errno, with its text.
public struct PosixError: Error, Sendable, Equatable, CustomStringConvertible {
    public var code: Int32
    public init(_ code: Int32) { self.code = code }
    public var description: String { Posix.errnoText(code) }
}

extension Posix {
    /// The executable `program` names: itself if it contains a `/`, else the first
    /// match in `$PATH`; nil when there is none (what `execvp` would run).
    public static func executable(_ program: String, path: String? = ProcessInfo.processInfo.environment["PATH"]) -> String? {
        if program.contains("/") { return FileManager.default.isExecutableFile(atPath: program) ? program : nil }
        for folder in (path ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":") {
            let candidate = "\(folder)/\(program)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}
