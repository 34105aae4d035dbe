import ArgumentParser
import Daemon
import Foundation

/// `mwad run`: the daemon.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Watch a training run and keep the MWA merge of its latest checkpoints published.",
        discussion: """
            Settings come from --config (YAML), then MWAD_* environment variables, then these \
            flags; see config/mwad.yaml for every key. Stops cleanly on SIGTERM or SIGINT.
            """
    )

    @Option(help: "The YAML configuration file.")
    var config: String?

    @Option(help: "The trainer's output directory (watch.directory).")
    var watch: String?

    @Option(help: "The merged adapter folder (output).")
    var out: String?

    @Option(help: "The ledger file (ledger).")
    var ledger: String?

    @Option(help: "How many of the latest checkpoints to merge (merge.window).")
    var window: Int?

    @Option(help: "loss, step or uniform (merge.weighting).")
    var weighting: String?

    @Option(help: "The penalty factor p >= 0 (merge.penalty).")
    var penalty: Double?

    @Option(help: "train_loss or eval_loss (merge.metric).")
    var metric: String?

    @Option(help: "Average the last K logged losses up to each checkpoint's step (merge.smoothing).")
    var smoothing: Int?

    @Option(help: "auto, inotify or poll (watch.mode).")
    var watchMode: String?

    @Flag(help: "Reconcile, merge if needed, and exit: 0 when the published merge reflects the directory, else 1.")
    var once = false

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        do {
            let loaded = try await ConfigLoader.load(file: config, environment: environment, flags: flags)
            guard try await DaemonService.run(config: loaded, once: once, environment: environment) else {
                printError(CommandError("the published merge does not reflect \(loaded.watchDirectory); see the log above"))
                throw ExitCode.failure
            }
        } catch let error as ExitCode {
            throw error
        } catch {
            printError(error)
            throw ExitCode.failure
        }
    }

    /// The flags given, as config keys.
    var flags: [String: String] {
        var flags: [String: String] = [:]
        flags["watch.directory"] = watch
        flags["output"] = out
        flags["ledger"] = ledger
        flags["merge.window"] = window.map { "\($0)" }
        flags["merge.weighting"] = weighting
        flags["merge.penalty"] = penalty.map { "\($0)" }
        flags["merge.metric"] = metric
        flags["merge.smoothing"] = smoothing.map { "\($0)" }
        flags["watch.mode"] = watchMode
        return flags
    }
}
