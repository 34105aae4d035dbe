import Foundation
import GRDB

/// The daemon's heartbeat (one row): who runs, since when, last sign of life.
public struct DaemonRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    /// Always 1: the table holds one row.
    public var id: Int64 = 1
    public static let databaseTableName = "daemon"

    public var pid: Int32
    public var host: String
    public var version: String
    public var startedAt: Date
    public var heartbeatAt: Date
    /// Seconds between heartbeats: status calls the daemon stale after three missed.
    public var heartbeatInterval: Double
    /// Set on a clean shutdown.
    public var stoppedAt: Date?
    public var lastError: String?
    public var lastErrorAt: Date?
    /// A failure that persists now (what mwad waits on), cleared as soon as it is gone.
    public var problem: String?
    public var problemSince: Date?
    /// The trainer layout the run is read in, and how it was chosen (`diffusers (auto: …)`).
    public var layout: String?
    /// How its merges are published, and how that was chosen (`file (publish: auto)`).
    public var publication: String?
    /// Why it stopped, where that is not a signal (`the trainer, pid 4242, exited`).
    public var stopReason: String?

    public init(pid: Int32, host: String, version: String, startedAt: Date, heartbeatAt: Date, heartbeatInterval: Double,
                stoppedAt: Date? = nil, lastError: String? = nil, lastErrorAt: Date? = nil) {
        self.pid = pid
        self.host = host
        self.version = version
        self.startedAt = startedAt
        self.heartbeatAt = heartbeatAt
        self.heartbeatInterval = heartbeatInterval
        self.stoppedAt = stoppedAt
        self.lastError = lastError
        self.lastErrorAt = lastErrorAt
    }

    enum CodingKeys: String, CodingKey {
        case id
        case pid, host, version
        case startedAt = "started_at", heartbeatAt = "heartbeat_at", heartbeatInterval = "heartbeat_interval"
        case stoppedAt = "stopped_at", lastError = "last_error", lastErrorAt = "last_error_at"
        case problem, problemSince = "problem_since", layout, publication, stopReason = "stop_reason"
    }
}
