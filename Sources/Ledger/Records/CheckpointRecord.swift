import Foundation
import GRDB

/// One checkpoint as the ledger saw it, and what was decided about it.
public struct CheckpointRecord: Codable, Sendable, Equatable, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "checkpoint"

    /// What became of a checkpoint.
    public enum Status: String, Codable, Sendable, CaseIterable, DatabaseValueConvertible {
        /// Read and usable: a candidate for the merge window.
        case ingested
        /// Unusable (broken file, bad metric, shape change); ``CheckpointRecord/reason`` says why.
        case rejected
        /// Dropped out of the window; its retained copy was deleted.
        case evicted
        /// Superseded by a checkpoint of the same step with other content (training
        /// resumed from an earlier checkpoint).
        case replaced
        /// Seen, but deleted before it was complete or could be copied (the trainer's
        /// rotation outran mwad); ``CheckpointRecord/reason`` says when and how.
        case missed
    }

    public var id: Int64?
    public var step: Int64
    public var sourcePath: String
    public var retainedPath: String?
    public var adapterSize: Int64?
    public var adapterSHA256: String?
    public var trainLoss: Double?
    public var evalLoss: Double?
    public var status: Status
    public var reason: String?
    public var discoveredAt: Date
    public var ingestedAt: Date?
    /// When the source folder was found gone (the trainer's rotation); the retained
    /// copy, if any, still serves the merge.
    public var vanishedAt: Date?

    public init(id: Int64? = nil, step: Int64, sourcePath: String, retainedPath: String? = nil, adapterSize: Int64? = nil,
                adapterSHA256: String? = nil, trainLoss: Double? = nil, evalLoss: Double? = nil, status: Status,
                reason: String? = nil, discoveredAt: Date, ingestedAt: Date? = nil) {
        self.id = id
        self.step = step
        self.sourcePath = sourcePath
        self.retainedPath = retainedPath
        self.adapterSize = adapterSize
        self.adapterSHA256 = adapterSHA256
        self.trainLoss = trainLoss
        self.evalLoss = evalLoss
        self.status = status
        self.reason = reason
        self.discoveredAt = discoveredAt
        self.ingestedAt = ingestedAt
    }

    /// The folder name, e.g. `checkpoint-80`.
    public var name: String { (sourcePath as NSString).lastPathComponent }

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }

    enum CodingKeys: String, CodingKey {
        case id, step, status, reason
        case sourcePath = "source_path", retainedPath = "retained_path", adapterSize = "adapter_size"
        case adapterSHA256 = "adapter_sha256", trainLoss = "train_loss", evalLoss = "eval_loss"
        case discoveredAt = "discovered_at", ingestedAt = "ingested_at", vanishedAt = "vanished_at"
    }

    public enum Columns {
        public static let step = Column(CodingKeys.step)
        public static let status = Column(CodingKeys.status)
        public static let sourcePath = Column(CodingKeys.sourcePath)
        public static let id = Column(CodingKeys.id)
    }
}
