import Foundation
import Weigh

/// `mwa_merge.json`: what a published merge is made of, for people and scripts.
public struct MergeManifest: Codable, Sendable, Equatable {
    public struct Member: Codable, Sendable, Equatable {
        public var step: Int64
        public var name: String
        /// The checkpoint folder the adapter was read from.
        public var source: String
        /// The value of ``MergeManifest/metric`` for this member (nil if not logged).
        public var metricValue: Double?
        public var weight: Double
        public var adapterSHA256: String

        enum CodingKeys: String, CodingKey {
            case step, name, source, weight
            case metricValue = "metric"
            case adapterSHA256 = "adapter_sha256"
        }
    }

    public var tool: String
    public var created: Date
    public var weighting: String
    public var penalty: Double
    public var metric: String
    public var smoothing: Int
    public var window: Int
    public var members: [Member]
    /// SHA-256 of the merged `adapter_model.safetensors` (nil for a dry run).
    public var outputSHA256: String?

    enum CodingKeys: String, CodingKey {
        case tool, created, weighting, penalty, metric, smoothing, window, members
        case outputSHA256 = "output_sha256"
    }

    /// The manifest of `plan`; `digests` are the members' adapter SHA-256s when already
    /// known (else each adapter is hashed).
    public init(plan: MergePlan, created: Date, outputSHA256: String? = nil, digests: [String]? = nil) {
        tool = "mwad \(Provenance.version)"
        self.created = created
        weighting = plan.weighting
        penalty = plan.settings.penalty
        metric = plan.metric.rawValue
        smoothing = plan.settings.smoothing
        window = plan.settings.window
        let digests = digests ?? Self.digests(plan)
        members = plan.members.enumerated().map { index, member in
            Member(step: member.checkpoint.step, name: member.checkpoint.name, source: member.checkpoint.ref.source,
                   metricValue: member.metricValue, weight: member.weight, adapterSHA256: digests[index])
        }
        self.outputSHA256 = outputSHA256
    }

    /// The members' SHA-256s, each hashed on its own core (one file after another left
    /// all but one core idle: most of a dry run's time).
    static func digests(_ plan: MergePlan) -> [String] {
        MemberDigests(plan).wait()
    }

    /// Pretty, key-sorted JSON with ISO 8601 dates.
    public func encoded() -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return try! encoder.encode(self)  // plain values only: cannot fail
    }

    public static func decode(_ data: Data) throws -> MergeManifest {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try decoder.decode(MergeManifest.self, from: data)
    }
}
