import Foundation
import HostFileSystem
import Logging

/// `eval.mode: persistent`: the evaluator is started once and kept running, so that
/// its start (a Python and torch import, the base model's load) is paid once, not per
/// adapter. Each adapter is one request line on its stdin, `{"id", "adapter",
/// "adapter_file", "target", "step", "merge_id"}`; its answer is one line on its stdout,
/// a JSON object with the same `id` and the `eval.metric` key.
///
/// - Past `eval.timeout` without an answer: the evaluator is killed, the adapter
///   recorded as failed with the reason; the next adapter starts it afresh.
/// - Exited while scoring, having answered before: restarted and the request retried
///   once; a second exit fails the adapter with the reason.
/// - Exited before its first answer (a failure at start: a missing model, a typo):
///   the adapter fails with that reason, and the next start waits out a backoff that
///   doubles from 1 s to 5 min — one clear error per kind in the log and status, never a
///   loop of starts.
public actor PersistentEvaluator: AdapterEvaluator {
    private let settings: EvalSettings
    private let logger: Logger
    /// Where the backoff is waited (the answer's timeout is a real timer: see ``EvaluatorServer``).
    private let clock: DaemonClock
    private var server: EvaluatorServer?
    /// Exits in a row without an answer in between: the backoff's exponent.
    private var exits = 0
    private var notBefore: Date?
    private var requests = 0
    /// Set by ``stop()``: no start after it, and a request it interrupts fails.
    private var stopped = false
    /// How many times it was started (tests, the benchmark).
    public private(set) var starts = 0

    public init(settings: EvalSettings, logger: Logger, clock: DaemonClock = .system) {
        self.settings = settings
        self.logger = logger
        self.clock = clock
    }

    public func evaluate(_ request: EvalRequest) async -> EvalOutcome {
        let started = Date()
        func outcome(_ value: Double? = nil, error: String? = nil) -> EvalOutcome {
            EvalOutcome(value: value, error: error, started: started, duration: Date().timeIntervalSince(started))
        }
        var retried = false
        while true {
            let server: EvaluatorServer
            switch await running() {
            case .success(let running): server = running
            case .failure(let error): return outcome(error: error.description)
            }
            requests += 1
            let id = "\(request.mergeID)-\(request.target)-\(requests)"
            switch await server.ask(id: id, line: request.line(id: id), timeout: settings.timeout) {
            case .answer(let line):
                exits = 0
                switch ScoreLine.score(in: line, metric: settings.metric) {
                case .success(let value): return outcome(value)
                case .failure(let error):
                    // An answer that says why it has no score: `{"id": …, "error": "…"}`.
                    let object = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
                    if let reason = object?["error"] as? String { return outcome(error: "the evaluator: \(reason)") }
                    return outcome(error: "its answer: \(error)")
                }
            case .timedOut:
                server.kill()
                self.server = nil
                return outcome(error: "no answer within \(Self.seconds(settings.timeout)) s (eval.timeout): the evaluator was killed and starts afresh for the next adapter")
            case .exited(let how):
                self.server = nil
                if stopped { return outcome(error: "stopped with mwad (\(how))") }
                exits += 1
                notBefore = clock.now().addingTimeInterval(backoff)
                if retried { return outcome(error: "the evaluator exited again while scoring it (\(how))") }
                guard server.answered > 0 else {
                    return outcome(error: "the evaluator exited before its first answer (\(how)); it is started again in \(Self.seconds(backoff)) s at the earliest")
                }
                logger.warning("the evaluator exited while scoring \(request.target) of merge #\(request.mergeID) (\(how)): restarted, the request sent once more")
                retried = true
            }
        }
    }

    /// Ends the evaluator (EOF, then SIGTERM, then SIGKILL); a request in flight ends
    /// with it, and nothing starts it again.
    public func stop() async {
        stopped = true
        let running = server
        server = nil
        await running?.stop()
    }

    /// The running evaluator, started (after the backoff, if it is due) when none runs.
    private func running() async -> Result<EvaluatorServer, ScoreError> {
        if stopped { return .failure(ScoreError("mwad is stopping")) }
        if let server { return .success(server) }
        if let notBefore, case let wait = notBefore.timeIntervalSince(clock.now()), wait > 0 {
            try? await clock.sleep(seconds: wait)
        }
        guard let program = settings.command.first, Posix.executable(program) != nil else {
            return .failure(ScoreError("failed to start: \(settings.command.first ?? "eval.command"): no such executable"))
        }
        let argv = (settings.nice > 0 ? ["nice", "-n", "\(settings.nice)"] : []) + settings.command
        do {
            let server = try EvaluatorServer(argv: argv, logger: logger)
            starts += 1
            logger.info("evaluator started (pid \(server.pid), persistent): \(settings.command.joined(separator: " "))")
            self.server = server
            return .success(server)
        } catch {
            return .failure(ScoreError("failed to start: \(error.localizedDescription)"))
        }
    }

    /// 1 s after the first exit, doubling, at most 5 min.
    private var backoff: Double { min(300, pow(2, Double(max(0, exits - 1)))) }

    private static func seconds(_ value: Double) -> String {
        value == value.rounded() ? String(Int64(value)) : "\(value)"
    }
}
