import Foundation

/// The parts of HF Trainer's `trainer_state.json` that mwad reads.
public struct TrainerState: Sendable, Equatable, Decodable {
    public var globalStep: Int64?
    public var logHistory: [LogEntry]

    /// One `log_history` entry: a training log (`loss`), an evaluation (`eval_loss`),
    /// or the final summary (`train_loss`, never used as a checkpoint's loss).
    public struct LogEntry: Sendable, Equatable, Decodable {
        public var step: Int64?
        public var loss: Double?
        public var evalLoss: Double?

        public init(step: Int64?, loss: Double? = nil, evalLoss: Double? = nil) {
            self.step = step
            self.loss = loss
            self.evalLoss = evalLoss
        }

        enum CodingKeys: String, CodingKey {
            case step, loss
            case evalLoss = "eval_loss"
        }
    }

    public init(globalStep: Int64?, logHistory: [LogEntry]) {
        self.globalStep = globalStep
        self.logHistory = logHistory
    }

    enum CodingKeys: String, CodingKey {
        case globalStep = "global_step"
        case logHistory = "log_history"
    }

    /// The state as `trainer_state.json` holds it (`global_step`, `log_history`), with
    /// non-finite values written as Python's json writes them, so ``decode(_:path:)``
    /// reads it back.
    public func encoded() -> Data {
        func number(_ value: Double) -> String {
            value.isNaN ? "NaN" : value.isInfinite ? (value > 0 ? "Infinity" : "-Infinity") : "\(value)"
        }
        let entries = logHistory.map { entry in
            var fields: [String] = []
            if let step = entry.step { fields.append("\"step\": \(step)") }
            if let loss = entry.loss { fields.append("\"loss\": \(number(loss))") }
            if let evalLoss = entry.evalLoss { fields.append("\"eval_loss\": \(number(evalLoss))") }
            return "{" + fields.joined(separator: ", ") + "}"
        }
        let step = globalStep.map { "\"global_step\": \($0), " } ?? ""
        return Data("{\(step)\"log_history\": [\(entries.joined(separator: ", "))]}\n".utf8)
    }

    /// Reads and decodes `path`. Python's json writes non-finite floats as bare
    /// `NaN`/`Infinity`, which strict JSON refuses; ``PythonJSON`` reads them, so that
    /// a NaN loss is reported as a NaN loss rather than as a broken file.
    public static func load(_ path: String) throws(IngestError) -> TrainerState {
        try decode(try RunDirectory.read(path), path: path)
    }

    /// Decodes the bytes of a `trainer_state.json`; `path` names it in errors.
    public static func decode(_ data: Data, path: String) throws(IngestError) -> TrainerState {
        guard !data.isEmpty else { throw .invalidTrainerState(path: path, reason: "file is empty") }
        do { return try PythonJSON.decode(TrainerState.self, from: data) } catch {
            switch error {
            case .notUTF8(let reason): throw .invalidTrainerState(path: path, reason: reason)
            case .decoding(let decoding): throw .invalidTrainerState(path: path, reason: explain(decoding))
            case .other(let other): throw .invalidTrainerState(path: path, reason: String(describing: other))
            }
        }
    }

    private static func explain(_ error: DecodingError) -> String {
        switch error {
        case .keyNotFound(let key, let context):
            return "missing field '\(fieldPath(context.codingPath + [key]))'"
        case .typeMismatch(let type, let context), .valueNotFound(let type, let context):
            return "field '\(fieldPath(context.codingPath))' is not \(typeName(type))"
        case .dataCorrupted(let context) where context.codingPath.isEmpty:
            let detail = (context.underlyingError as NSError?)?.userInfo[NSDebugDescriptionErrorKey] as? String
            return "not valid JSON (\(detail ?? context.debugDescription))"
        case .dataCorrupted(let context):
            return "field '\(fieldPath(context.codingPath))' is invalid (\(context.debugDescription))"
        @unknown default:
            return String(describing: error)
        }
    }

    private static func fieldPath(_ path: [any CodingKey]) -> String {
        path.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined().trimmingPrefix(".").description
    }

    private static func typeName(_ type: Any.Type) -> String {
        let name = "\(type)"
        if type is Double.Type { return "a number" }
        if type is Int64.Type { return "an integer" }
        if name.hasPrefix("Array") { return "an array" }
        if name.hasPrefix("Dictionary") { return "an object" }
        return "of the expected type (\(name))"
    }
}
