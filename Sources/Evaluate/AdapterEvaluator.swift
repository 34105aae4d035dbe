import Foundation
import HostFileSystem
import Logging

/// One adapter to score: what the evaluator is told, in its environment
/// (`eval.mode: per-adapter`) or as one JSON line on its stdin (`persistent`).
public struct EvalRequest: Sendable, Equatable {
    /// The folder, or the file for a layout of single files (kohya, ai-toolkit).
    public var adapter: String
    /// The adapter's safetensors file, for every layout.
    public var adapterFile: String
    /// `merge`, `checkpoint` or `candidate`.
    public var target: String
    /// The newest member's step.
    public var step: Int64
    public var mergeID: Int64

    public init(adapter: String, adapterFile: String, target: String, step: Int64, mergeID: Int64) {
        self.adapter = adapter
        self.adapterFile = adapterFile
        self.target = target
        self.step = step
        self.mergeID = mergeID
    }

    /// The per-adapter evaluator's environment.
    var environment: [String: String] {
        ["MWAD_ADAPTER": adapter, "MWAD_ADAPTER_FILE": adapterFile, "MWAD_TARGET": target, "MWAD_STEP": "\(step)",
         "MWAD_MERGE_ID": "\(mergeID)"]
    }

    /// The persistent evaluator's request line (without its newline).
    func line(id: String) -> String {
        let object: [String: Any] = ["id": id, "adapter": adapter, "adapter_file": adapterFile, "target": target,
                                     "step": step, "merge_id": mergeID]
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }
}

/// What one evaluation gave.
public struct EvalOutcome: Sendable {
    public var value: Double?
    public var error: String?
    public var exitStatus: Int32?
    public var started: Date
    public var duration: Double

    public init(value: Double? = nil, error: String? = nil, exitStatus: Int32? = nil, started: Date, duration: Double) {
        self.value = value
        self.error = error
        self.exitStatus = exitStatus
        self.started = started
        self.duration = duration
    }
}

/// How adapters are scored: a process per adapter (``EvaluatorProcess``) or one that
/// stays up and answers requests (``PersistentEvaluator``), by `eval.mode`.
public protocol AdapterEvaluator: Sendable {
    func evaluate(_ request: EvalRequest) async -> EvalOutcome
    /// Ends what runs between evaluations (the persistent evaluator); at shutdown.
    func stop() async
}

extension EvalSettings {
    /// The evaluator `mode` asks for; its timeouts and backoff are waited on `clock`.
    public func makeEvaluator(scratch: String, logger: Logger, clock: DaemonClock = .system) -> any AdapterEvaluator {
        switch mode {
        case .perAdapter: EvaluatorProcess(settings: self, scratch: scratch, clock: clock)
        case .persistent: PersistentEvaluator(settings: self, logger: logger, clock: clock)
        }
    }
}
