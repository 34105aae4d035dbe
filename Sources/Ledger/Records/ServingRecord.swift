import Foundation
import GRDB

/// What the serving engine serves (`serve.url`): the adapter name it serves, the
/// version folder loaded last (with its step, rank, and the truncation error where it
/// was capped to `serve.max_rank`), when; and the last failure to load one, if the
/// latest attempt failed (cleared by the next load).
public struct ServingRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "serving"
    public var id: Int64 = 1
    public var url: String
    public var name: String
    public var version: String?
    public var step: Int64?
    public var rank: Int?
    public var truncationError: Double?
    public var loadedAt: Date?
    public var lastFailure: String?
    public var lastFailureAt: Date?

    public init(url: String, name: String) {
        self.url = url
        self.name = name
    }

    enum CodingKeys: String, CodingKey {
        case id, url, name, version, step, rank
        case truncationError = "truncation_error", loadedAt = "loaded_at", lastFailure = "last_failure", lastFailureAt = "last_failure_at"
    }
}
