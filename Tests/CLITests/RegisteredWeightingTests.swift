@testable import CLI
import Daemon
import Foundation
import Ingest
import Ledger
import MWADTestKit
import Settings
import Status
import Testing
import Weigh

/// A weighting defined in this one file: newer checkpoints weigh `recency_power`
/// times more per position. Registered in the catalog, it is reached from the
/// configuration, the command line, candidates and status with no other edit: the
/// one-file claim of `docs/create_a_weighting.md`.
struct RecencyWeighting: WeightingMethod {
    static let description = WeightingDescription(
        name: "recency", help: "each newer member weighs recency_power times the one before",
        parameters: [MergeParameter(name: "recency_power", kind: .number(1...100), defaultValue: .number(2), help: "The factor per position.")],
        readsMetric: false, separable: false
    ) { values, _ in RecencyWeighting(power: values.number("recency_power")) }

    var power: Double
    var name: String { "recency" }
    var metric: Metric? { nil }  // reads no metric: steps (here, positions) only

    func weights(for candidates: [Candidate]) throws(WeighError) -> [Double] {
        try Self.normalised(logScores: candidates.indices.map { Double($0) * log(power) })
    }
}

@Suite(.serialized) struct RegisteredWeightingTests {
    static let registered: Bool = {
        try? Catalog.shared.register(RecencyWeighting.description)
        return true
    }()

    init() { _ = Self.registered }

    @Test func theCatalogRefusesTwoParametersWithOneName() {
        let clash = WeightingDescription(name: "clash", help: "", parameters: [MergeParameter(name: "penalty", kind: .integer(0...3),
                                         defaultValue: .number(1), help: "")], readsMetric: false, separable: false) { _, _ in UniformWeighting() }
        #expect(throws: CatalogError.self) { try Catalog().register(clash) }
        let reserved = WeightingDescription(name: "reserved", help: "", parameters: [MergeParameter(name: "window", kind: .integer(0...3),
                                            defaultValue: .number(1), help: "")], readsMetric: false, separable: false) { _, _ in UniformWeighting() }
        #expect(throws: CatalogError.self) { try Catalog().register(reserved) }
        #expect(throws: CatalogError.self) { try Catalog().register(LossWeighting.description) }
    }

    @Test func theCommandLineTakesItAndItsParameter() throws {
        let command = try MergeCommand.parse(SettingsOptions.rewrite(
            [Fixtures.f32Run, "--dry-run", "--weighting", "recency", "--recency-power", "3", "--window", "3"]))
        let settings = try command.settings.merged()
        #expect(settings.weighting == "recency" && settings.parameters["recency_power"] == .number(3))
        let plan = try MergePlan(checkpoints: [60, 70, 80].map { try Checkpoint.load(folder: Fixtures.checkpoint(Fixtures.f32Run, $0)) },
                                 settings: settings)
        #expect(plan.members.map(\.weight).map { ($0 * 13).rounded() } == [1, 3, 9])
        #expect(throws: (any Error).self) {
            _ = try MergeCommand.parse(SettingsOptions.rewrite([Fixtures.f32Run, "--dry-run", "--weighting", "recency", "--recency-power", "0"]))
        }
        #expect(SettingsOptions.parameterHelp.contains("--recency-power (weighting recency): The factor per position."))
    }

    @Test func theConfigurationAndCandidatesTakeIt() async throws {
        let dir = TemporaryDirectory()
        let file = dir.write("mwad.yaml", """
            watch: {directory: /runs/a}
            merge: {weighting: recency, recency_power: 5, method: linear}
            eval:
              command: [/bin/true]
              candidates:
                - {weighting: recency, recency_power: 7}
            """)
        let config = try await ConfigLoader.load(file: file, environment: ["HOME": "/h"], flags: [:])
        #expect(config.merge.weighting == "recency" && config.merge.parameters["recency_power"] == .number(5))
        #expect(config.evaluation?.candidates.first?.parameters["recency_power"] == .number(7))
        #expect(config.evaluation?.candidates.first?.brief == "recency, recency_power 7, window 3, linear")
        await #expect(throws: ConfigError.self) {
            _ = try await ConfigLoader.load(file: nil, environment: ["HOME": "/h"],
                                            flags: ["watch.directory": "/runs/a", "merge.weighting": "recency", "merge.recency_power": "500"])
        }
    }

    @Test func statusShowsIt() throws {
        let dir = TemporaryDirectory()
        let settings = MergeSettings(window: WindowSpec(count: 3), weighting: "recency", method: "linear", parameters: ["recency_power": .number(3)])
        let ledger = try Ledger(path: dir.file("ledger.sqlite"))
        try ledger.registerRun(watch: "/runs/a", output: "/out", settings: settings)
        let report = StatusReport(ledger: dir.file("ledger.sqlite"), snapshot: try LedgerReader(path: dir.file("ledger.sqlite")).snapshot(),
                                  now: Date(), all: false, words: Catalog.words) { DaemonState.of($0, now: Date(), host: "h", processExists: { _ in false }) }
        #expect(HumanView.render(report).contains("recency weighting (recency_power 3) · linear method"))
        #expect(report.json().contains("\"recency_power\" : 3"))
    }
}
