import ArgumentParser
import Daemon
import Foundation
import Ingest
import Ledger
import Publish

/// `mwad eval`: after the run, scores the windows the live gate skipped.
struct EvalCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Score, after the run, the merge windows the live evaluation skipped, and update the best adapter.",
        discussion: """
            Each window without a score is re-made from its members' retained copies and the \
            settings recorded with it (checked bit-equal to the merge published then), and \
            evaluated as the daemon evaluates: the merge, the newest checkpoint and each \
            candidate, recorded in the ledger. eval.best_output is updated when the newest \
            window evaluated is one of them. The evaluator and the other eval.* keys come from \
            --config, MWAD_* variables and the --eval-* flags, as for mwad run. Retained copies \
            outlive the window under eval.retain: all (the default with an evaluator). \
            Refused while a daemon holds the ledger: it writes the same scores and best adapter; \
            run it when training has ended. Exit status: 0 when every window asked for has a \
            score; 1 otherwise; 78 (EX_CONFIG) an unusable configuration.
            """
    )

    @OptionGroup var source: LedgerSource

    @Option(help: "The YAML configuration file the daemon ran with (its eval.* keys are read).")
    var config: String?

    @Option(help: "Only the newest N windows (of at least eval.min_members members).")
    var last: Int?

    @Flag(help: "Every window of the run (the default).")
    var all = false

    @Option(name: .customLong("set"), parsing: .unconditionalSingleValue, help: ArgumentHelp(ConfigFlags.help, valueName: "key=value"))
    var keyFlags: [String] = []

    func validate() throws {
        guard source.isGiven else { throw ValidationError("Give --ledger FILE, --watch DIR or --state-dir DIR.") }
        if last != nil && all { throw ValidationError("Give either --last N or --all.") }
        if let last, last < 1 { throw ValidationError("--last must be at least 1.") }
    }

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        do {
            let path = try source.ledgerPath()
            guard FileManager.default.fileExists(atPath: path) else { throw CommandError("\(path): no ledger there") }
            let recorded = try LedgerReader(path: path).snapshot()
            var flags = try ConfigFlags.values(keyFlags)
            flags["ledger"] = path
            flags["watch.directory"] = source.watch ?? recorded.run?.watchPath
            // Published as the daemon published (a registered target must be registered here too).
            if flags["publish"] == nil, let name = ExportCommand.recordedPublication(recorded), PublicationCatalog.names.contains(name) {
                flags["publish"] = name
            }
            let loaded = try await ConfigLoader.load(file: config, environment: environment, flags: flags)
            guard let evaluation = loaded.evaluation else {
                throw ConfigError.missing(key: "eval.command", hint: "the evaluator: --eval-command, MWAD_EVAL_COMMAND or eval.command in --config")
            }
            let lock: LedgerLock
            do { lock = try LedgerLock(ledger: path) } catch {
                guard case .locked = error else { throw error }
                throw CommandError("\(error): mwad eval writes the scores and the best adapter that daemon's own evaluation writes; run it once training has ended (the daemon stops with it under --until-pid or the Trainer callback), or stop the daemon")
            }
            let ledger = try Ledger(path: path)
            let retained = recorded.checkpoints.compactMap(\.retainedPath).first { FileManager.default.fileExists(atPath: $0) }
            let layout = ExportCommand.layout(recorded, retained: retained ?? "")
            let scoring = WindowScoring(config: loaded, evaluation: evaluation, layout: layout, ledger: ledger,
                                        logger: DaemonService.makeLogger(level: loaded.logLevel, environment: environment))
            let windows = try await scoring.run(last.map { .last($0) } ?? .all) { print(Self.line($0)) }
            withExtendedLifetime(lock) {}
            let asked = windows.filter { $0.outcome != .tooSmall }
            let scored = asked.filter(\.hasScore).count
            var summary = "\(scored) of \(asked.count) window\(asked.count == 1 ? "" : "s") scored"
            let now = windows.filter { if case .scored = $0.outcome { true } else { false } }.count
            summary += " (\(now) now)"
            if let best = try ledger.snapshot().best { summary += "; the best adapter: \(best.outputPath)" }
            print(summary)
            if scored < asked.count || asked.isEmpty {
                throw CommandError(asked.isEmpty ? "\(path): no window of at least \(evaluation.minMembers) members to score"
                    : "\(asked.count - scored) window\(asked.count - scored == 1 ? "" : "s") could not be scored (above)")
            }
        } catch {
            throw failureExit(reporting: error)
        }
    }

    static func line(_ window: WindowScoring.Window) -> String {
        let steps = window.steps.count == 1 ? "step \(window.steps[0])" : "steps \(window.steps.first!)–\(window.steps.last!)"
        let head = "merge #\(window.mergeID) (\(steps))"
        switch window.outcome {
        case .scored(_, let scores): return "\(head): scored: \(scores)"
        case .alreadyScored(let value): return "\(head): already scored" + (value.map { " (merge \(String(format: "%.6g", $0)))" } ?? " (the merge failed then)")
        case .failed(let reason): return "\(head): not scored: \(reason)"
        case .tooSmall: return "\(head): not a window to evaluate (\(window.steps.count) member, below eval.min_members)"
        }
    }
}
