import Foundation
import GRDB

/// A folder in the run directory named like a checkpoint but passed over, with why:
/// no usable step (`checkpoint-abc`, a step beyond Int64) or not a real folder (a
/// symbolic link, which is never followed). Kept while the folder is there.
public struct SkippedRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "skipped_folder"

    public var name: String
    public var reason: String
    public var seenAt: Date

    public init(name: String, reason: String, seenAt: Date) {
        self.name = name
        self.reason = reason
        self.seenAt = seenAt
    }

    enum CodingKeys: String, CodingKey {
        case name, reason
        case seenAt = "seen_at"
    }
}
