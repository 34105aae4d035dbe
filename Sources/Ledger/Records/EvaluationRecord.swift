import Foundation
import SettingsValue
import GRDB

/// One run of the user's evaluator on one adapter of a window: the published merge,
/// the window's newest checkpoint, or a candidate merge made with other settings.
public struct EvaluationRecord: Codable, Sendable, Equatable, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "evaluation"

    /// What was evaluated.
    public enum Target: String, Codable, Sendable, CaseIterable, DatabaseValueConvertible {
        case merge, checkpoint, candidate
    }

    public enum Status: String, Codable, Sendable, DatabaseValueConvertible {
        case ok, failed
    }

    public var id: Int64?
    /// The published merge whose window this is.
    public var mergeID: Int64
    public var target: Target
    /// The window's newest step (for `checkpoint`, the checkpoint's).
    public var step: Int64
    /// A candidate's settings (nil for the merge and the checkpoint).
    public var settings: MergeSettings?
    /// The key read from the evaluator's last line.
    public var metric: String
    /// `minimize` or `maximize`: which scores are better.
    public var goal: String
    public var value: Double?
    public var status: Status
    /// Why it failed, with the tail of the evaluator's stderr.
    public var error: String?
    public var exitStatus: Int32?
    public var startedAt: Date
    public var durationSeconds: Double
    /// Whether this adapter scored best in its window (and was published as the best).
    public var best: Bool
    /// The checkpoint's own name, as its trainer wrote it (`epoch_3`,
    /// `pixel-step00000040.safetensors`); nil for a merge or candidate, and in ledgers
    /// older than v11, whose checkpoints are labelled `checkpoint-<step>`.
    public var name: String?

    public init(id: Int64? = nil, mergeID: Int64, target: Target, step: Int64, settings: MergeSettings? = nil, metric: String,
                goal: String = "minimize", value: Double?, status: Status, error: String? = nil, exitStatus: Int32? = nil, startedAt: Date,
                durationSeconds: Double, best: Bool = false) {
        self.id = id
        self.mergeID = mergeID
        self.target = target
        self.step = step
        self.settings = settings
        self.metric = metric
        self.goal = goal
        self.value = value
        self.status = status
        self.error = error
        self.exitStatus = exitStatus
        self.startedAt = startedAt
        self.durationSeconds = durationSeconds
        self.best = best
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }

    enum CodingKeys: String, CodingKey {
        case id, target, step, settings, metric, goal, value, status, error, best, name
        case mergeID = "merge_id", exitStatus = "exit_status", startedAt = "started_at", durationSeconds = "duration_seconds"
    }

    public enum Columns {
        public static let mergeID = Column(CodingKeys.mergeID)
        public static let id = Column(CodingKeys.id)
    }

    /// A short name: `merge`, the checkpoint's own name (`checkpoint-80`, `epoch_3`), or
    /// the candidate's settings in `brief`'s words (the catalog's: Settings' `label`).
    public func label(brief: (MergeSettings) -> String) -> String {
        switch target {
        case .merge: "merge"
        case .checkpoint: name ?? "checkpoint-\(step)"
        case .candidate: "candidate (\(settings.map(brief) ?? "?"))"
        }
    }

    /// Whether `value` is better than `other` under ``goal``.
    public func isBetter(than other: EvaluationRecord) -> Bool {
        guard let value, let theirs = other.value else { return value != nil }
        return goal == "maximize" ? value > theirs : value < theirs
    }
}

/// The adapter published to `eval.best_output` (one row: the latest).
public struct BestRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "best"
    public var id: Int64 = 1
    public var evaluationID: Int64
    public var outputPath: String
    public var publishedAt: Date

    public init(evaluationID: Int64, outputPath: String, publishedAt: Date) {
        self.evaluationID = evaluationID
        self.outputPath = outputPath
        self.publishedAt = publishedAt
    }

    enum CodingKeys: String, CodingKey {
        case id
        case evaluationID = "evaluation_id", outputPath = "output_path", publishedAt = "published_at"
    }
}
