import Daemon
@testable import CLI
import Ingest
import Foundation
import MWADTestKit
import Settings
import Testing
import Weigh

/// A parameter `NAME` is the flag `--NAME`: no parameter may take the name of another
/// option of mwad's commands, or `--layout` (say) would set the parameter instead.
@Suite struct CatalogReservedTests {
    /// Every long option of every command, as ArgumentParser describes them.
    static func optionNames() throws -> Set<String> {
        let dump = try MWADProcess.run(["--experimental-dump-help"])
        let tree = try #require(try JSONSerialization.jsonObject(with: Data(dump.stdout.utf8)) as? [String: Any])
        var names = Set<String>()
        func walk(_ command: [String: Any]) {
            for argument in command["arguments"] as? [[String: Any]] ?? [] {
                for name in argument["names"] as? [[String: Any]] ?? [] where name["kind"] as? String == "long" {
                    names.insert(name["name"] as! String)
                }
            }
            for sub in command["subcommands"] as? [[String: Any]] ?? [] { walk(sub) }
        }
        walk(try #require(tree["command"] as? [String: Any]))
        return names
    }

    @Test func everyOptionOfEveryCommandIsReserved() throws {
        let options = try Self.optionNames()
        #expect(options.contains("layout") && options.contains("until-pid"), "the dump lists the commands' options: \(options)")
        let flags = ConfigFlags.declared.map { String($0.flag.dropFirst(2)) }
        let parameters = Set(Catalog.shared.parameters.map { String($0.parameter.flag.dropFirst(2)) })
        for option in options.union(flags) where !parameters.contains(option) {
            #expect(Catalog.reserved.contains(option.replacingOccurrences(of: "-", with: "_")), "--\(option) is not reserved")
        }
    }

    @Test(arguments: ["layout", "retain", "eval_command", "watch", "state_dir"])
    func aParameterNamedAfterAnOptionIsRefused(_ name: String) {
        let taken = WeightingDescription(name: "taken", help: "", parameters: [MergeParameter(name: name, kind: .integer(0...3),
                                         defaultValue: .number(1), help: "")], readsMetric: false, separable: false) { _, _ in UniformWeighting() }
        #expect(throws: CatalogError.self) { try Catalog().register(taken) }
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
