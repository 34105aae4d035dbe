@testable import CLI
import Daemon
import Foundation
import Ingest
import Ledger
import Logging
import Merge
import MWADTestKit
import Publish
import SafeTensors
import Settings
import Synchronization
import Testing

/// A merge method defined in this one file, with an incremental form of its own: the
/// linear average, its running state kept by a wrapper of ``WindowSum`` that counts
/// what it is asked. Registered in the catalog, the daemon's running average (`window:
/// all`) works through its form with no other edit: the claim of
/// `docs/create_a_merge_method.md`.
final class TallySum: IncrementalMerge {
    /// The state paths it was asked to read and to write (other suites use it too).
    let reads = Mutex<[String]>([]), writes = Mutex<[String]>([])

    func saved(at path: String) -> WindowSum.State? {
        reads.withLock { $0.append(path) }
        return WindowSum.State(path: path)
    }

    func write(previous: WindowSum.State?, adding: [WindowSum.Member], removing: [WindowSum.Member], dtypes: SafeTensorsFile,
               output: MergeOutput, statePath: String, fingerprint: String, rebase: Double?) throws(MergeError) {
        writes.withLock { $0.append(statePath) }
        try WindowSum.write(previous: previous, adding: adding, removing: removing, dtypes: dtypes, output: output,
                            statePath: statePath, fingerprint: fingerprint, rebase: rebase)
    }

    func checkPath(_ statePath: String) -> String { WindowSum.checkPath(statePath) }
}

struct TallyMethod: MergeMethod {
    static let form = TallySum()
    static let description = MethodDescription(
        name: "tally", help: "the linear average, its running sum counted", needs: "any adapter", result: .parameterAverage, takesDoRA: true, incremental: form,
        config: "the newest member's") { _ in TallyMethod() }

    var name: String { "tally" }

    func write(_ inputs: [MergeInput], to output: MergeOutput) throws(MergeError) -> MergeReport {
        try LinearMethod().write(inputs, to: output)
    }

    func checkMember(_ input: MergeInput, reference: MergeInput?) throws(MergeError) {
        try LinearMethod().checkMember(input, reference: reference)
    }
}

@Suite(.serialized) struct RegisteredIncrementalMethodTests {
    static let registered: Bool = {
        try? Catalog.shared.register(TallyMethod.description)
        return true
    }()

    init() { _ = Self.registered }

    @Test func theDaemonsRunningAverageGoesThroughItsForm() async throws {
        let dir = TemporaryDirectory()
        let run = dir.file("run")
        try FileManager.default.createDirectory(atPath: run, withIntermediateDirectories: true)
        func save(_ step: Int) throws {
            try FileManager.default.copyItem(atPath: Fixtures.checkpoint(Fixtures.f32Run, step), toPath: "\(run)/checkpoint-\(step)")
        }
        try save(60)
        try save(70)
        let flags = ["watch.directory": run, "output": dir.file("merged"), "state_directory": dir.file("state"),
                     "merge.window": "all", "merge.weighting": "ema", "merge.half_life": "20", "merge.method": "tally"]
        let config = try await ConfigLoader.load(file: nil, environment: [:], flags: flags)
        let engine = DaemonEngine(config: config, ledger: try Ledger(path: config.ledger),
                                  logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }, notifier: SystemdNotifier(environment: [:]))
        func asked(_ paths: [String]) -> Int { paths.filter { $0.hasPrefix(dir.file("state")) }.count }
        #expect(await engine.runOnce().reflected)
        try save(80)
        #expect(await engine.runOnce().reflected)
        #expect(asked(TallyMethod.form.writes.withLock { $0 }) == 2, "each merge written through the method's form")
        #expect(asked(TallyMethod.form.reads.withLock { $0 }) >= 2, "the saved state read back through it")
        // The running average of 60, 70, 80 is the linear merge of the three.
        let settings = MergeSettings(window: WindowSpec(count: 3), weighting: "ema", method: "linear", parameters: ["half_life": .number(20)])
        let plan = try MergePlan(checkpoints: try [60, 70, 80].map { try Checkpoint.load(folder: Fixtures.checkpoint(Fixtures.f32Run, $0)) },
                                 settings: settings)
        _ = try LinearMethod().write(try MergePublisher.inputs(plan), to: MergeOutput(path: dir.file("linear.safetensors"), metadata: [:]))
        let (mine, theirs) = (try SafeTensorsFile(path: dir.file("merged/adapter_model.safetensors")), try SafeTensorsFile(path: dir.file("linear.safetensors")))
        for tensor in theirs.tensors {
            let worst = zip(TestAdapter.values(mine, tensor.name), TestAdapter.values(theirs, tensor.name)).map { abs($0 - $1) }.max() ?? 1
            #expect(worst < 1e-6, "\(tensor.name): \(worst)")
        }
    }
}
