import Foundation
import Ingest
import ArgumentParser
import Daemon
import Settings

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
    /// First, where parts were registered beside the built-in ones (whose names
    /// `CatalogReservedTests` checks), the options' names are reserved in the catalog
    /// (``CommandOptions``): a parameter named like an option would take it over, a
    /// programming error. (Reading the options costs a help dump: not paid otherwise.)
    public static func main() async {
        do throws(CatalogError) { if Catalog.shared.hasRegisteredParts { try CommandOptions.reserve() } } catch {
            FileHandle.standardError.write(Data("mwad: internal error: \(error)\n".utf8))
            Foundation.exit(70)  // EX_SOFTWARE
        }
        await main(ConfigFlags.rewrite(SettingsOptions.rewrite(Array(CommandLine.arguments.dropFirst()))))
    }
}
