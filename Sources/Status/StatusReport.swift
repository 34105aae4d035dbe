import Foundation
import Ledger

/// What `mwad status --json` prints: a stable object for scripts and monitoring
/// (schema in the README; fields are only ever added, and `schema` changes if one
/// ever has to change meaning).
public struct StatusReport: Codable, Sendable {
    public var schema = 1
    public var ledger: String
    public var generatedAt: Date
    public var run: Run?
    public var daemon: Daemon
    public var counts: Counts
    public var lastIngested: Checkpoint?
    public var merge: Merge?
    public var rejected: [Checkpoint]
    /// Folders named like checkpoints but passed over, with why.
    public var skipped: [Skipped]
    /// Train loss of every usable checkpoint, in step order (the sparkline's data).
    public var losses: [LossPoint]
    /// Every checkpoint row; only with `--all`.
    public var checkpoints: [Checkpoint]?

    public struct Run: Codable, Sendable {
        public var watch: String
        public var output: String
        public var firstSeen: Date
        public var window: Int
        public var weighting: String
        public var penalty: Double
        public var metric: String
        public var smoothing: Int
    }

    public struct Daemon: Codable, Sendable {
        public var state: DaemonState
        public var pid: Int32?
        public var host: String?
        public var version: String?
        public var started: Date?
        public var heartbeat: Date?
        public var heartbeatAgeSeconds: Double?
        public var lastError: String?
        public var lastErrorAt: Date?
    }

    public struct Counts: Codable, Sendable {
        public var ingested = 0, rejected = 0, evicted = 0, replaced = 0
    }

    public struct Checkpoint: Codable, Sendable {
        public var id: Int64
        public var step: Int64
        public var name: String
        public var source: String
        public var retained: String?
        public var status: String
        public var reason: String?
        public var adapterSize: Int64?
        public var adapterSha256: String?
        public var trainLoss: Double?
        public var evalLoss: Double?
        public var discovered: Date
        public var ingested: Date?
        /// When the trainer's folder was found deleted.
        public var vanished: Date?
    }

    public struct Merge: Codable, Sendable {
        public var id: Int64
        public var created: Date
        public var weighting: String
        public var penalty: Double
        public var metric: String
        public var window: Int
        public var output: String
        public var outputSha256: String
        public var durationSeconds: Double
        /// How the on_merge hook ended, if one is configured.
        public var hookStatus: String?
        public var members: [Member]
    }

    public struct Member: Codable, Sendable {
        public var checkpointId: Int64
        public var step: Int64
        public var name: String
        public var metric: Double?
        public var weight: Double
    }

    public struct Skipped: Codable, Sendable {
        public var name: String
        public var reason: String
        public var since: Date
    }

    public struct LossPoint: Codable, Sendable {
        public var step: Int64
        public var trainLoss: Double
    }
}

extension StatusReport {
    /// The report of `snapshot` at `now`.
    public init(ledger: String, snapshot: LedgerSnapshot, now: Date, all: Bool,
                daemonState: (DaemonRecord?) -> DaemonState) {
        self.ledger = ledger
        generatedAt = now
        run = snapshot.run.map(Run.init)
        daemon = Daemon(snapshot.daemon, state: daemonState(snapshot.daemon), now: now)
        let rows = snapshot.checkpoints
        counts = Counts(rows)
        lastIngested = rows.filter { $0.ingestedAt != nil && $0.status != .rejected }
            .max { ($0.ingestedAt!, $0.step) < ($1.ingestedAt!, $1.step) }.map(Checkpoint.init)
        merge = snapshot.merge.map { Merge($0, members: snapshot.members, snapshot: snapshot) }
        rejected = rows.filter { $0.status == .rejected }.map(Checkpoint.init)
        skipped = snapshot.skipped.map { Skipped(name: $0.name, reason: $0.reason, since: $0.seenAt) }
        losses = rows.filter { $0.status == .ingested || $0.status == .evicted }
            .compactMap { row in row.trainLoss.map { LossPoint(step: row.step, trainLoss: $0) } }
        checkpoints = all ? rows.map(Checkpoint.init) : nil
    }

    /// Pretty, key-sorted, snake_case JSON with ISO 8601 dates.
    public func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return String(decoding: try! encoder.encode(self), as: UTF8.self)  // plain values: cannot fail
    }

    /// Decodes what ``json()`` printed.
    public static func decode(_ data: Data) throws -> StatusReport {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(StatusReport.self, from: data)
    }
}

extension StatusReport.Run {
    init(_ run: RunRecord) {
        self.init(watch: run.watchPath, output: run.outputPath, firstSeen: run.firstSeen, window: run.window,
                  weighting: run.weighting.rawValue, penalty: run.penalty, metric: run.metric.rawValue, smoothing: run.smoothing)
    }
}

extension StatusReport.Daemon {
    init(_ record: DaemonRecord?, state: DaemonState, now: Date) {
        self.init(state: state, pid: record?.pid, host: record?.host, version: record?.version, started: record?.startedAt,
                  heartbeat: record?.heartbeatAt, heartbeatAgeSeconds: record.map { now.timeIntervalSince($0.heartbeatAt) },
                  lastError: record?.lastError, lastErrorAt: record?.lastErrorAt)
    }
}

extension StatusReport.Counts {
    init(_ rows: [CheckpointRecord]) {
        for row in rows {
            switch row.status {
            case .ingested: ingested += 1
            case .rejected: rejected += 1
            case .evicted: evicted += 1
            case .replaced: replaced += 1
            }
        }
    }
}

extension StatusReport.Checkpoint {
    init(_ row: CheckpointRecord) {
        self.init(id: row.id ?? 0, step: row.step, name: row.name, source: row.sourcePath, retained: row.retainedPath,
                  status: row.status.rawValue, reason: row.reason, adapterSize: row.adapterSize,
                  adapterSha256: row.adapterSHA256, trainLoss: row.trainLoss, evalLoss: row.evalLoss,
                  discovered: row.discoveredAt, ingested: row.ingestedAt, vanished: row.vanishedAt)
    }
}

extension StatusReport.Merge {
    init(_ merge: MergeRecord, members: [MergeMemberRecord], snapshot: LedgerSnapshot) {
        self.init(id: merge.id ?? 0, created: merge.createdAt, weighting: merge.weighting, penalty: merge.penalty,
                  metric: merge.metric, window: merge.window, output: merge.outputPath, outputSha256: merge.outputSHA256,
                  durationSeconds: merge.durationSeconds, hookStatus: merge.hookStatus,
                  members: members.map { member in
                      let row = snapshot.checkpoint(id: member.checkpointID)
                      return StatusReport.Member(checkpointId: member.checkpointID, step: row?.step ?? -1,
                                                 name: row?.name ?? "?", metric: member.metricValue, weight: member.weight)
                  })
    }
}
