import Foundation
import Ledger

/// Whether the daemon is alive, judged from its heartbeat row.
public enum DaemonState: String, Codable, Sendable {
    /// Heartbeat fresh and (on this host) the process exists.
    case running
    /// No clean shutdown, but no heartbeat for three intervals or the process is gone:
    /// crashed, killed or hung.
    case stale
    /// Shut down cleanly.
    case stopped
    /// No daemon has ever run on this ledger (only `mwad merge --ledger`).
    case never

    /// Classifies `record` at `now`; `processExists` is asked only for this host's pids.
    public static func of(_ record: DaemonRecord?, now: Date, host: String = ProcessInfo.processInfo.hostName,
                          processExists: (Int32) -> Bool = Self.processExists) -> DaemonState {
        guard let record else { return .never }
        if record.stoppedAt != nil { return .stopped }
        if record.host == host, !processExists(record.pid) { return .stale }
        let age = now.timeIntervalSince(record.heartbeatAt)
        return age <= 3 * record.heartbeatInterval ? .running : .stale
    }

    /// Whether a process with `pid` exists (EPERM means it does, owned by someone else).
    public static func processExists(_ pid: Int32) -> Bool {
        kill(pid, 0) == 0 || errno == EPERM
    }
}
