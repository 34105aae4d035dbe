import Ingest
import ArgumentParser

/// `mwad`: keeps a Metrics-Weighted Average of a trainer's latest adapter checkpoints.
public struct MWADCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "mwad",
        abstract: "Merge the latest LoRA adapter checkpoints of a training run by Metrics-Weighted Averaging.",
        version: MWADVersion.current,
        subcommands: [DemoCommand.self, RunCommand.self, MergeCommand.self, StatusCommand.self]
    )

    public init() {}

    /// Runs the command line, parameter flags rewritten for the parser (``SettingsOptions/rewrite(_:)``).
    public static func main() async {
        await main(SettingsOptions.rewrite(Array(CommandLine.arguments.dropFirst())))
    }
}
