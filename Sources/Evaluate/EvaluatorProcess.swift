import Foundation
import HostFileSystem

/// One run of the user's evaluator on one adapter folder (a ``ChildProcess``, at the
/// configured niceness); its score read from its last stdout line; on failure, the
/// tail of its stderr kept for the ledger.
public struct EvaluatorProcess: AdapterEvaluator {
    public let settings: EvalSettings
    public let scratch: String
    /// Where `eval.timeout` and the kill grace are waited.
    public let clock: DaemonClock

    public init(settings: EvalSettings, scratch: String, clock: DaemonClock = .system) {
        self.settings = settings
        self.scratch = scratch
        self.clock = clock
    }

    /// Runs the evaluator on `request`'s adapter (in its environment: MWAD_ADAPTER,
    /// MWAD_ADAPTER_FILE, MWAD_TARGET, MWAD_STEP, MWAD_MERGE_ID).
    public func evaluate(_ request: EvalRequest) async -> EvalOutcome {
        let started = Date()
        let out = "\(scratch)/stdout-\(UUID().uuidString)"
        let err = "\(scratch)/stderr-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: out); try? FileManager.default.removeItem(atPath: err) }
        _ = FileManager.default.createFile(atPath: out, contents: nil)  // a failure shows as the evaluator's own
        _ = FileManager.default.createFile(atPath: err, contents: nil)
        let argv = (settings.nice > 0 ? ["nice", "-n", "\(settings.nice)"] : []) + settings.command
        let ending = await ChildProcess.run(argv, environment: request.environment, stdout: out, stderr: err, timeout: settings.timeout,
                                            clock: clock)
        var result = EvalOutcome(started: started, duration: Date().timeIntervalSince(started))
        if case .exited(let status) = ending { result.exitStatus = status }
        guard ending == .exited(0) else {
            result.error = ending.text(timeout: settings.timeout) + Self.tail(err)
            return result
        }
        switch ScoreLine.score(in: (try? String(contentsOfFile: out, encoding: .utf8)) ?? "", metric: settings.metric) {
        case .success(let value): result.value = value
        case .failure(let error): result.error = "\(error)" + Self.tail(err)
        }
        return result
    }

    /// Nothing runs between evaluations.
    public func stop() async {}

    /// `; stderr: …` with the last lines of what the evaluator wrote to stderr.
    static func tail(_ path: String) -> String {
        guard let data = FileManager.default.contents(atPath: path), !data.isEmpty else { return "" }
        let text = String(decoding: data.suffix(2000), as: UTF8.self)
        let lines = text.split(whereSeparator: \.isNewline).suffix(5).joined(separator: " | ")
        return "; stderr: \(lines)"
    }
}
