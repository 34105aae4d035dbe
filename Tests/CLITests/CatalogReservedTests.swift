import Daemon
@testable import CLI
import Ingest
import Foundation
import MWADTestKit
import Settings
import Testing
import Weigh

/// A parameter `NAME` is the flag `--NAME`: no parameter may take the name of another
/// option of mwad's commands, or `--layout` (say) would set the parameter instead. The
/// names are read from the commands (``CommandOptions``), and checked here against
/// what the binary itself says of its options.
@Suite struct CatalogReservedTests {
    /// Every long option of every command, as the binary's own help dump lists them.
    static func optionNames() throws -> Set<String> {
        CommandOptions.longOptions(inHelpDump: try MWADProcess.run(["--experimental-dump-help"]).stdout)
    }

    @Test func everyOptionOfEveryCommandAndEveryOtherMergeKeyIsReserved() throws {
        let options = try Self.optionNames()
        #expect(options.contains("layout") && options.contains("until-pid"), "the dump lists the commands' options: \(options)")
        let reserved = CommandOptions.names()
        for option in options.union(ConfigFlags.declared.map { String($0.flag.dropFirst(2)) }) {
            #expect(reserved.contains(option.replacingOccurrences(of: "-", with: "_")), "--\(option) is not reserved")
        }
        #expect(reserved.isSuperset(of: ["recompute_every", "running_sum", "eval_command", "best_output"]))
        #expect(reserved.isDisjoint(with: Catalog.shared.parameters.map(\.parameter.name)), "a built-in parameter is named like an option")
    }

    @Test(arguments: ["layout", "retain", "eval_command", "watch", "state_dir", "until_pid", "recompute_every"])
    func aParameterNamedAfterAnOptionIsRefused(_ name: String) throws {
        let taken = WeightingDescription(name: "taken", help: "", parameters: [MergeParameter(name: name, kind: .integer(0...3),
                                         defaultValue: .number(1), help: "")], readsMetric: false, separable: false) { _, _ in UniformWeighting() }
        let catalog = Catalog()
        try CommandOptions.reserve(in: catalog)
        #expect(throws: CatalogError.self) { try catalog.register(taken) }
        // Registered first, the clash is found when the options are reserved (at the
        // binary's start, before any parsing).
        let early = Catalog()
        #expect(!early.hasRegisteredParts, "the built-in parts only: the binary's start skips the help dump")
        try early.register(taken)
        #expect(early.hasRegisteredParts, "a registered part: the binary's start reserves the options")
        #expect(throws: CatalogError.self) { try CommandOptions.reserve(in: early) }
    }
}

/// `--layout`'s help is rendered from the layout catalog: each layout with its trainers.
@Suite struct LayoutHelpTests {
    @Test func theLayoutOptionListsEachLayoutWithItsTrainers() {
        let help = MergeCommand.helpMessage(columns: 10_000)
        for layout in LayoutCatalog.builtIn.map(\.description) {
            #expect(help.contains("\(layout.name): \(layout.trainers)"), "\(layout.name): \(help)")
        }
    }
}
