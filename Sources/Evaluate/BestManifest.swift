import Foundation
import Ingest
import Ledger
import Publish
import Settings
import Weigh

/// `mwa_best.json`, beside the best adapter of an evaluated window (inside it, as
/// `mwa_best`, where the target publishes single files): what it is (the merge, a candidate or
/// the newest checkpoint), and every score of the window.
public struct BestManifest: Codable, Sendable {
    /// Its key: `mwa_best.json` beside a folder, `mwa_best` in a file's metadata.
    public static let key = "mwa_best"

    public struct Score: Codable, Sendable {
        public var target: String
        public var step: Int64
        public var settings: MergeSettings?
        public var value: Double?
        public var status: String
        public var error: String?
    }

    public var tool: String
    public var created: Date
    public var mergeID: Int64
    /// The window's steps, oldest first.
    public var window: [Int64]
    public var metric: String
    public var goal: String
    /// The adapter here.
    public var chosen: Score
    /// Its source: the trainer's folder for a checkpoint, else the merge's settings.
    public var source: String?
    public var scores: [Score]
    /// How fresh it is when published: its window's newest step, and the run's newest
    /// step then (saves that came while the window was evaluated).
    public var windowStep: Int64?
    public var runNewestStep: Int64?

    init(job: EvalJob, results: [EvaluationRecord], best: Int, settings: EvalSettings) {
        tool = "mwad \(MWADVersion.current)"
        created = Date()
        mergeID = job.mergeID
        window = job.settings.window.select(job.members.map(\.step)).map { job.members[$0].step }  // the merge's own
        metric = settings.metric
        goal = settings.goal.rawValue
        scores = results.map { Score(target: $0.target.rawValue, step: $0.step, settings: $0.target == .merge ? job.settings : $0.settings,
                                     value: $0.value, status: $0.status.rawValue, error: $0.error) }
        chosen = scores[best]
        source = results[best].target == .checkpoint ? job.newest.source : nil
        windowStep = job.newest.step
    }

    /// How it is handed over with the best adapter: where single files are published
    /// into a folder, as `NAME-best.safetensors` (the merge's name with `-best`).
    func note(layout: any TrainerLayout) throws -> HandOverNote {
        let name = (layout.output.adapterFile as NSString).deletingPathExtension
        return HandOverNote(key: Self.key, manifest: try encoded(), fileName: "\(name)-best.safetensors", step: windowStep)
    }

    public func encoded(pretty: Bool = true) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        return try encoder.encode(self)
    }

    public static func decode(_ data: Data) throws -> BestManifest {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        return try decoder.decode(BestManifest.self, from: data)
    }
}

/// The log line of an evaluated window.
enum EvaluationSummary {
    static func line(_ results: [EvaluationRecord], best: Int?, bestPath: String?, settings: EvalSettings, job: EvalJob) -> String {
        let checkpoint = results.first { $0.target == .checkpoint }?.value
        let scores = results.map { result -> String in
            guard let value = result.value else { return "\(result.label) failed" }
            var text = "\(result.label) \(String(format: "%.6g", value))"
            if result.target != .checkpoint, let checkpoint, checkpoint != 0 {
                text += String(format: " (%+.2f %% vs checkpoint)", (value - checkpoint) / abs(checkpoint) * 100)
            }
            return text
        }
        let chosen = best.map { "; best: \(results[$0].label)" + (bestPath.map { " → \($0)" } ?? "") } ?? "; no score"
        // The merge's own window (the frozen span may hold more, for the candidates).
        let oldest = job.settings.window.select(job.members.map(\.step)).first.map { job.members[$0].step } ?? job.newest.step
        return "evaluated merge #\(job.mergeID) (steps \(oldest)–\(job.newest.step), \(settings.metric), \(settings.goal.rawValue)): "
            + scores.joined(separator: ", ") + chosen
    }
}
