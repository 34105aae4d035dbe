import ArgumentParser
import Daemon
import Foundation
import Ingest

/// `mwad run`: the daemon.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Watch a training run and keep the MWA merge of its latest checkpoints published.",
        discussion: """
            A setting is taken from these flags, then MWAD_* environment variables, then the \
            --config file (YAML), then the default; see config/mwad.yaml for every key. Stops cleanly on SIGTERM or SIGINT. \
            Exit status: 0 stopped cleanly (or, with --once, the merge reflects the directory; nothing to merge is 1, saying why); \
            1 a failure; 64 a wrong flag; 78 (EX_CONFIG) an unusable configuration.
            """
    )

    @Option(help: "The YAML configuration file.")
    var config: String?

    @Option(help: "The trainer's output directory (watch.directory).")
    var watch: String?

    @Option(help: "The merged adapter folder (output).")
    var out: String?

    @Option(help: "The ledger file (ledger; default: ledger.sqlite in the state directory).")
    var ledger: String?

    @Option(help: "Where the ledger and the retained copies live (state_directory; default: beside --ledger if given, else $STATE_DIRECTORY or $XDG_STATE_HOME/mwad/<run>).")
    var stateDir: String?

    @OptionGroup var settings: SettingsOptions

    @Option(help: "auto, inotify or poll (watch.mode).")
    var watchMode: DaemonConfig.WatchMode?

    @Option(help: "The trainer's layout (watch.layout): auto, decided from the files (the default), or \(LayoutCatalog.helpText).")
    var layout: String?

    @Option(help: "The TensorBoard folder for mwad's own scores, or auto (tensorboard.logdir).")
    var tensorboardLogdir: String?

    @Flag(help: "Reconcile, merge if needed, and exit: 0 when the published merge reflects the directory, else 1.")
    var once = false

    @Option(name: .customLong("until-pid"), help: ArgumentHelp(
        "Stop once process PID is gone (the trainer: exited, crashed or killed), after merging and evaluating what it saved last; exit 0. SIGUSR1 makes mwad look at the run at once; SIGUSR2 says training finished (the same final merge, then exit 0).",
        valueName: "pid"))
    var untilPID: Int32?

    /// `--eval-command …` and the other keys of ``ConfigFlags`` reach the parser as `--set KEY=VALUE`.
    @Option(name: .customLong("set"), parsing: .unconditionalSingleValue, help: ArgumentHelp(ConfigFlags.help, valueName: "key=value"))
    var keyFlags: [String] = []

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        do {
            let loaded = try await ConfigLoader.load(file: config, environment: environment, flags: flags.merging(try ConfigFlags.values(keyFlags)) { $1 })
            let outcome = try await DaemonService.run(config: loaded, once: once, untilPID: untilPID, environment: environment)
            if let line = outcome.finalLine(watching: loaded.watchDirectory) {
                printError(CommandError(line))
                throw ExitCode.failure
            }
        } catch {
            throw failureExit(reporting: error)
        }
    }

    /// The flags given, as config keys.
    var flags: [String: String] {
        var flags = settings.configFlags
        flags["watch.directory"] = watch
        flags["output"] = out
        flags["ledger"] = ledger
        flags["state_directory"] = stateDir
        flags["watch.mode"] = watchMode?.rawValue
        flags["watch.layout"] = layout
        flags["tensorboard.logdir"] = tensorboardLogdir
        return flags
    }
}

extension DaemonConfig.WatchMode: ExpressibleByArgument {}
