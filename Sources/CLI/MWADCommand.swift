import Ingest
import ArgumentParser
import Daemon

/// `mwad`: keeps a Metrics-Weighted Average of a trainer's latest adapter checkpoints.
public struct MWADCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "mwad",
        abstract: "Merge the latest LoRA adapter checkpoints of a training run by Metrics-Weighted Averaging.",
        version: MWADVersion.current,
        subcommands: [DemoCommand.self, RunCommand.self, MergeCommand.self, StatusCommand.self, EvalCommand.self, ExportCommand.self]
    )

    public init() {}

    /// Runs the command line, parameter flags and `mwad run`'s config-key flags rewritten
    /// for the parser (``SettingsOptions/rewrite(_:)``, ``ConfigFlags/rewrite(_:)``).
    public static func main() async {
        await main(ConfigFlags.rewrite(SettingsOptions.rewrite(Array(CommandLine.arguments.dropFirst()))))
    }
}
