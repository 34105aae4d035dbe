import Foundation
import HostFileSystem
import Logging

/// One line per event on stderr. Under systemd (`$JOURNAL_STREAM` set) each line
/// starts with the syslog priority, `<4>` for a warning, which journald turns into the
/// entry's priority and which replaces the timestamp journald adds anyway; elsewhere a
/// UTC timestamp and the level lead the line. A stderr nobody reads any more (the
/// trainer whose pipe it was, killed) loses the line; the daemon goes on.
struct DaemonLogHandler: LogHandler {
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]
    let journald: Bool

    init(level: Logger.Level, environment: [String: String]) {
        logLevel = level
        journald = environment["JOURNAL_STREAM"] != nil
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let line = journald
            ? "<\(Self.priority(event.level))>\(event.message)"
            : "\(Self.timestamp()) \(event.level.rawValue.uppercased()) \(event.message)"
        Posix.writeToStandardError(line + "\n")
    }

    static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }

    static func timestamp() -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date())
    }
}
