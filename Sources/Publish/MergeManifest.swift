import Foundation
import Merge
import Settings
import Weigh

/// `mwa_merge.json`: what a published merge is made of, for people and scripts. A
/// single-file merge carries it in its metadata (``MergePublisher/manifestKey``).
public struct MergeManifest: Codable, Sendable, Equatable {
    public struct Member: Codable, Sendable, Equatable {
        public var step: Int64
        public var name: String
        /// The checkpoint folder the adapter was read from.
        public var source: String
        /// The value of ``MergeManifest/metric`` for this member (nil if not logged).
        public var metricValue: Double?
        /// The step that value was logged at, where it is earlier than ``step``.
        public var metricStep: Int64?
        public var weight: Double
        public var adapterSHA256: String

        enum CodingKeys: String, CodingKey {
            case step, name, source, weight
            case metricValue = "metric"
            case metricStep = "metric_step"
            case adapterSHA256 = "adapter_sha256"
        }
    }

    public var tool: String
    public var created: Date
    /// Every setting the merge was made with, each parameter by its own name
    /// (`method`, `weighting`, `half_life`, `window`, …), as in the configuration.
    public var settings: MergeSettings
    /// The weighting applied (`uniform` for a zero penalty), and the quantity it read
    /// from each member (`step` for a weighting that reads only steps: ema, step,
    /// uniform, schedule; else `settings.metric`).
    public var weighting: String
    public var metric: String
    /// What the weighting weighed the members by, where it is not that quantity itself,
    /// with the parameters it resolved: `age (steps) 20, 10, 0; half_life auto = 20 steps`.
    public var weighedBy: String?
    public var members: [Member]
    /// What the method made: ranks, truncation error (absent for `linear`).
    public var report: MergeReport?
    /// SHA-256 of the merged `adapter_model.safetensors` (nil for a dry run).
    public var outputSHA256: String?

    enum CodingKeys: String, CodingKey {
        case tool, created, settings, weighting, metric, members, report
        case outputSHA256 = "output_sha256", weighedBy = "weighed_by"
    }

    /// The manifest of `plan`; `digests` are the members' adapter SHA-256s when already
    /// known (else each adapter is hashed).
    public init(plan: MergePlan, created: Date, outputSHA256: String? = nil, digests: [String]? = nil, report: MergeReport? = nil) {
        tool = "mwad \(Provenance.version)"
        self.created = created
        settings = plan.settings
        weighting = plan.weighting
        metric = plan.metricName
        let digests = digests ?? MemberDigests(plan).wait()
        members = plan.members.enumerated().map { index, member in
            Member(step: member.step, name: member.name, source: member.source,
                   metricValue: member.metricValue, metricStep: member.metricStep, weight: member.weight, adapterSHA256: digests[index])
        }
        self.report = report == MergeReport() ? nil : report
        self.outputSHA256 = outputSHA256
        if let column = plan.settings.weighed(plan.members.map { Candidate(name: $0.name, step: $0.step, metricValue: $0.metricValue) }),
           column.title != metric {
            weighedBy = "\(column.title) \(column.values.joined(separator: ", "))" + (column.resolved.map { "; \($0)" } ?? "")
        }
    }

    /// Key-sorted JSON with ISO 8601 dates, pretty unless it goes into a file's metadata.
    /// A member's non-finite metric (a trainer that logged a loss of `inf`, merged with
    /// a weighting that does not read it) is written as Python's json names it, as a
    /// string: `"Infinity"`, `"-Infinity"`, `"NaN"`.
    public func encoded(pretty: Bool = true) throws(PublishError) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        do { return try encoder.encode(self) } catch {
            throw .io(path: AtomicDirectory.marker, operation: "encoding the merge manifest", reason: "\(error)")
        }
    }

    public static func decode(_ data: Data) throws -> MergeManifest {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        return try decoder.decode(MergeManifest.self, from: data)
    }
}
