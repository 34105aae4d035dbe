import Foundation

/// `mwad_metrics.json`, written by a training loop that has no HF Trainer: the step
/// and its loss, e.g. `{"step": 120, "loss": 1.83, "eval_loss": 1.91}`.
public enum MetricsSidecar {
    struct Content: Decodable {
        var step: Int64
        var loss: Double?
        var eval_loss: Double?
    }

    /// Reads the sidecar at `path` as a one-entry trainer state.
    public static func load(_ path: String) throws(IngestError) -> TrainerState {
        try decode(try RunDirectory.read(path), path: path)
    }

    public static func decode(_ data: Data, path: String) throws(IngestError) -> TrainerState {
        let content: Content
        do { content = try PythonJSON.decode(Content.self, from: data) } catch {
            let detail: String = switch error {
            case .notUTF8(let reason): reason
            case .decoding(let decoding): decoding.localizedDescription
            case .other(let other): other.localizedDescription
            }
            throw .invalidTrainerState(path: path, reason: "must be {\"step\": <integer>, \"loss\": <number>} (\(detail))")
        }
        return TrainerState(globalStep: content.step,
                            logHistory: [.init(step: content.step, loss: content.loss, evalLoss: content.eval_loss)])
    }
}
