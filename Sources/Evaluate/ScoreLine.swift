import Foundation

/// The evaluator's answer: the last non-empty line of its stdout, a JSON object of
/// numbers such as `{"eval_loss": 3.531, "eval_tokens": 4096}`.
public enum ScoreLine {
    /// The value of `metric` in the last line of `stdout`, or why there is none.
    public static func score(in stdout: String, metric: String) -> Result<Double, ScoreError> {
        guard let line = stdout.split(whereSeparator: \.isNewline).last(where: { !$0.allSatisfy(\.isWhitespace) }) else {
            return .failure(ScoreError("printed nothing; its last line must be a JSON object such as {\"\(metric)\": 3.5}"))
        }
        guard let object = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] else {
            return .failure(ScoreError("its last line is not a JSON object: \(line.prefix(200))"))
        }
        guard let value = object[metric] else {
            return .failure(ScoreError("its last line has no \"\(metric)\" (keys: \(object.keys.sorted().joined(separator: ", ")))"))
        }
        guard let number = value as? NSNumber, !(value is Bool), number.doubleValue.isFinite else {
            return .failure(ScoreError("\"\(metric)\" is \(value), not a finite number"))
        }
        return .success(number.doubleValue)
    }
}

/// Why an evaluation gave no score.
public struct ScoreError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
