import Foundation
import Ingest
import Ledger
import SettingsValue

/// What `mwad status --json` prints: a stable object for scripts and monitoring
/// (schema in the README; fields are only ever added, and `schema` changes if one
/// ever has to change meaning).
public struct StatusReport: Codable, Sendable {
    public var schema = 1
    /// Fields added within schema 1: 1 adds `counts.ingested_total` and `earlier_run`.
    public var schemaMinor = 1
    public var ledger: String
    public var generatedAt: Date
    public var run: Run?
    public var daemon: Daemon
    public var counts: Counts
    public var lastIngested: Checkpoint?
    public var merge: Merge?
    public var rejected: [Checkpoint]
    /// Checkpoints seen but deleted before they could be read, with when and how.
    public var missed: [Checkpoint]
    /// Folders named like checkpoints but passed over, with why.
    public var skipped: [Skipped]
    /// The losses of every usable checkpoint, in step order (the sparkline's data).
    public var losses: [LossPoint]
    /// Every checkpoint row; only with `--all`.
    public var checkpoints: [Checkpoint]?
    /// The evaluations of the latest evaluated window (of every window with `--all`).
    public var evaluations: [Evaluation]
    /// Over the run: how often the merge beat the newest checkpoint, who won how often.
    public var evaluationSummary: EvaluationSummary?
    /// The adapter published to `eval.best_output`.
    /// The trainer was run again into this directory: the rows of the earlier run
    /// from `fromStep` on are `replaced`, and none of them feeds the counts' other
    /// fields, the losses or the metrics.
    public var earlierRun: EarlierRun?
    public var best: Best?
    /// What the serving engine serves (`serve.url`).
    public var serving: Serving?
    /// The catalog's words for the settings shown (not in the JSON: a report decoded
    /// from it is described in plain words).
    public var words: (any SettingsWords)?
    /// With all checkpoints: the steps whose retained copy is on disk (what `mwad
    /// export` can write back), looked at when the report was made (not in the JSON).
    public var exportable: [Int64]?

    enum CodingKeys: String, CodingKey {
        case schema, schemaMinor, ledger, generatedAt, run, daemon, counts, lastIngested, merge, rejected, missed, skipped, losses
        case checkpoints, evaluations, evaluationSummary, earlierRun, best, serving
    }

    /// The adapter the serving engine serves: its name there, the version folder
    /// loaded last (step, rank, the truncation error where capped to `serve.max_rank`),
    /// when; and the last failure, where the latest attempt failed.
    public struct Serving: Codable, Sendable {
        public var url: String
        public var name: String
        public var version: String?
        public var step: Int64?
        public var rank: Int?
        public var truncationError: Double?
        public var loadedAt: Date?
        public var lastFailure: String?
        public var lastFailureAt: Date?
    }

    public struct Run: Codable, Sendable {
        public var watch: String
        public var output: String
        public var firstSeen: Date
        /// The window's count (0 for `all`); the whole window is in ``settings``.
        public var window: Int
        public var weighting: String
        public var penalty: Double?  // absent where the weighting has no penalty (ema)
        public var metric: String
        public var smoothing: Int
        /// The settings in force, whole, and their fingerprint.
        public var settings: MergeSettings
        public var fingerprint: String
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
        /// What fails now and keeps failing (cleared as soon as it works): only while
        /// the daemon runs.
        public var problem: String?
        public var problemSince: Date?
        /// The trainer layout the daemon reads the run in, and how it was chosen.
        public var layout: String?
        /// How its merges are published, and how that was chosen (`file (publish: auto)`).
        public var publication: String?
        /// Why it stopped, where that was not a signal (`the trainer, pid 4242, exited`).
        public var stopReason: String?
    }

    public struct EarlierRun: Codable, Sendable {
        public var fromStep: Int64
        public var checkpoints: Int
    }

    public struct Counts: Codable, Sendable {
        /// `ingested`: in the window now (retained); `evicted`: ingested and since
        /// out of the window; `ingestedTotal`: both, every checkpoint read whole.
        public var ingested = 0, rejected = 0, evicted = 0, replaced = 0, missed = 0
        public var ingestedTotal = 0
        /// Evicted without ever being in a merge: ingested and pushed out of the window
        /// inside one burst, before the merge at its end.
        public var neverMerged = 0
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
        public var penalty: Double?  // absent where the weighting has no penalty (ema)
        public var metric: String
        /// The window's count (0 for `all`); the whole window is in ``settings``.
        public var window: Int
        public var smoothing: Int
        /// The merge method, and what it made (ranks; the truncation error per module
        /// and overall, for `svd`).
        public var method: String?
        public var report: MergeReport?
        /// Which checkpoints the window holds, in words (`the last 3 within 100 steps`).
        public var windowKind: String?
        /// Every setting the merge was made with (effective: p = 0 is uniform), and
        /// their fingerprint.
        public var settings: MergeSettings
        public var fingerprint: String
        /// Whether the settings in force (the run's) are the ones this merge was made
        /// with; false until the daemon publishes a merge with the new ones.
        public var madeWithSettingsInForce: Bool
        /// Why the merge has fewer members than its window, when older checkpoints were
        /// ingested but their folders are gone.
        public var windowShort: String?
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
        /// The step the metric was logged at, where earlier than the member's own.
        public var metricStep: Int64?
        public var weight: Double
    }

    public struct Skipped: Codable, Sendable {
        public var name: String
        public var reason: String
        public var since: Date
    }

    public struct LossPoint: Codable, Sendable {
        public var step: Int64
        public var trainLoss: Double?
        public var evalLoss: Double?
    }
}

extension StatusReport {
    /// The report of `snapshot` at `now`, the settings described in `words` (the
    /// catalog's: `Catalog.words`).
    /// `fileExists` tells which retained copies are on disk.
    public init(ledger: String, snapshot: LedgerSnapshot, now: Date, all: Bool, words: any SettingsWords,
                fileExists: (String) -> Bool = { FileManager.default.fileExists(atPath: $0) },
                daemonState: (DaemonRecord?) -> DaemonState) {
        self.ledger = ledger
        self.words = words
        generatedAt = now
        run = snapshot.run.map { Run($0, words: words) }
        daemon = Daemon(snapshot.daemon, state: daemonState(snapshot.daemon), now: now)
        let rows = snapshot.checkpoints
        counts = Counts(rows, everMerged: snapshot.everMerged)
        let replaced = rows.filter { $0.status == .replaced }
        earlierRun = replaced.map(\.step).min().map { EarlierRun(fromStep: $0, checkpoints: replaced.count) }
        lastIngested = rows.filter { $0.ingestedAt != nil && $0.status != .rejected }
            .max { ($0.ingestedAt!, $0.step) < ($1.ingestedAt!, $1.step) }.map(Checkpoint.init)
        merge = snapshot.merge.map { Merge($0, members: snapshot.members, snapshot: snapshot, words: words) }
        rejected = rows.filter { $0.status == .rejected }.map(Checkpoint.init)
        missed = rows.filter { $0.status == .missed }.map(Checkpoint.init)
        skipped = snapshot.skipped.map { Skipped(name: $0.name, reason: $0.reason, since: $0.seenAt) }
        losses = rows.filter { ($0.status == .ingested || $0.status == .evicted) && ($0.trainLoss != nil || $0.evalLoss != nil) }
            .map { LossPoint(step: $0.step, trainLoss: $0.trainLoss, evalLoss: $0.evalLoss) }
        // A checkpoint the evaluator scored on eval_loss shows that score where the
        // trainer logged none.
        let scored = Dictionary(snapshot.evaluations.filter { $0.target == .checkpoint && $0.metric == "eval_loss" && $0.value != nil }
            .map { ($0.step, $0.value!) }) { _, newer in newer }
        checkpoints = all ? rows.map { row in
            var checkpoint = Checkpoint(row)
            if checkpoint.evalLoss == nil, row.status != .replaced { checkpoint.evalLoss = scored[row.step] }
            return checkpoint
        } : nil
        exportable = checkpoints?.filter { $0.status != "replaced" && $0.retained.map(fileExists) == true }.map(\.step)
        (evaluations, evaluationSummary, best) = EvaluationDigest.make(snapshot, all: all, words: words)
        serving = snapshot.serving.map { row in
            Serving(url: row.url, name: row.name, version: row.version, step: row.step, rank: row.rank, truncationError: row.truncationError,
                    loadedAt: row.loadedAt, lastFailure: row.lastFailure, lastFailureAt: row.lastFailureAt)
        }
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
