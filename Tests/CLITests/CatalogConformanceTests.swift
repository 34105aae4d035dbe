@testable import CLI
import Foundation
import Ingest
import Merge
import MWADTestKit
import Publish
import SafeTensors
import Settings
import Testing
import Weigh

/// What every weighting, merge method and publication target in the catalogs promises,
/// checked over each one, the built-in and the registered (the tests' `recency`
/// weighting and `mirror` target) alike, mergekit-style: a new part is held to these
/// with no test of its own written first.
@Suite struct CatalogConformanceTests {
    init() {
        _ = RegisteredWeightingTests.registered
        _ = RegisteredPublicationTests.registered
    }

    let dir = TemporaryDirectory("mwad-conformance")

    /// Six saves, the third with a loss bump.
    static let candidates: [Candidate] = (1...6).map { index in
        Candidate(name: "checkpoint-\(index * 10)", step: Int64(index * 10), metricValue: 4.0 - Double(index) * 0.1 + (index == 3 ? 0.3 : 0))
    }

    @Test func everyWeightingGivesNonNegativeWeightsSummingToOne() throws {
        #expect(Catalog.shared.weightings.contains { $0.name == "recency" }, "the registered one is checked too")
        for description in Catalog.shared.weightings {
            for count in [1, 2, 6] {
                let settings = MergeSettings(window: count, weighting: description.name, method: "linear")
                let weighting = try settings.weightingMethod()
                let window = Array(Self.candidates.suffix(count))
                let weights = try weighting.weights(for: window)
                #expect(weights.count == count, "\(description.name)")
                #expect(weights.allSatisfy { $0 >= 0 && $0.isFinite }, "\(description.name): \(weights)")
                #expect(abs(weights.reduce(0, +) - 1) < 1e-12, "\(description.name): sums to \(weights.reduce(0, +))")
                // A separable weighting's scores, normalised, are its weights (the running sum uses the scores).
                if let separable = weighting as? any SeparableWeighting, separable.isSeparable {
                    let scores = try window.map { candidate throws(WeighError) in try separable.logScore(of: candidate) }
                    let normalised = try UniformWeighting.normalised(logScores: scores)
                    #expect(zip(normalised, weights).allSatisfy { abs($0 - $1) < 1e-12 }, "\(description.name)")
                }
            }
            // One that reads the loss refuses a member without one, naming it.
            if description.readsMetric {
                var window = Array(Self.candidates.suffix(3))
                window[1].metricValue = nil
                let weighting = try MergeSettings(window: 3, weighting: description.name, method: "linear").weightingMethod()
                #expect(throws: WeighError.self, "\(description.name)") { try weighting.weights(for: window) }
            }
        }
    }

    /// The last checkpoints of each real run in the fixtures, as the run's layout reads them.
    static func window(_ run: String, count: Int = 2) throws -> (layout: any TrainerLayout, members: [Checkpoint]) {
        let layout = try #require(LayoutCatalog.detect(in: run)).description.make(MetricsSource())
        let refs = try RunDirectory.scan(run, layout: layout).checkpoints.suffix(count)
        return (layout, try refs.map { try Checkpoint.load($0, layout: layout) })
    }

    static let runs = ["trainer-run-f32", "trainer-run-bf16", "trainer-run-rslora", "trainer-run-dora", "diffusers-run",
                       "torchtune-run", "flat-kohya", "flat-aitoolkit"]

    /// Each method, on each real run: whatever its member check accepts it merges;
    /// what it refuses is a `MergeError` saying why, never a crash.
    @Test(arguments: runs) func everyMethodMergesWhatItsMemberCheckAccepts(_ name: String) throws {
        let (layout, members) = try Self.window("\(Fixtures.root)/\(name)")
        for description in Catalog.shared.methods {
            if description.name == "svd" && !LAPACKInstalled.here { continue }
            let settings = MergeSettings(window: members.count, weighting: "uniform", method: description.name)
            let plan = try MergePlan(checkpoints: members, settings: settings)
            let inputs = try MergePublisher.inputs(plan)
            let method = try settings.mergeMethod()
            var refusal: MergeError?
            for input in inputs {
                do throws(MergeError) { try method.checkMember(input, reference: inputs.last) } catch { refusal = error }
            }
            let out = dir.file("\(name)-\(description.name)")
            do {
                let manifest = try FolderPublication(layout: layout).publish(plan, to: out)
                #expect(refusal == nil || description.name == "auto", "\(name) \(description.name): merged what its check refused (\(refusal.map { "\($0)" } ?? ""))")
                #expect(manifest.outputSHA256 == (try FileDigest.sha256(ofFile: "\(out)/\(layout.output.adapterFile)")))
            } catch PublishError.merge(let error) {
                #expect(refusal != nil, "\(name) \(description.name): its check accepted the members, its merge refused them: \(error)")
            }
        }
    }

    /// Every method with an incremental form: its state written from the window's
    /// members (the scores the weighting gives), then updated by one entering and one
    /// leaving, gives the merge the method itself makes of each window, to 1e-6.
    @Test func everyIncrementalFormAgreesWithItsMethod() throws {
        let (_, all) = try Self.window(Fixtures.f32Run, count: 4)
        let incremental = Catalog.shared.methods.filter { $0.incremental != nil }
        #expect(!incremental.isEmpty)
        for description in incremental {
            let form = description.incremental!
            let weighting = try MergeSettings(window: 3, weighting: "step", method: description.name).weightingMethod() as! any SeparableWeighting
            func member(_ checkpoint: Checkpoint) throws -> WindowSum.Member {
                WindowSum.Member(key: checkpoint.name, file: checkpoint.adapter,
                                 score: try weighting.logScore(of: Candidate(name: checkpoint.name, step: checkpoint.step, metricValue: nil)))
            }
            func full(_ members: [Checkpoint], _ out: String) throws -> SafeTensorsFile {
                let settings = MergeSettings(window: members.count, weighting: "step", method: description.name)
                _ = try settings.mergeMethod().write(try MergePublisher.inputs(try MergePlan(checkpoints: members, settings: settings)),
                                                     to: MergeOutput(path: out, metadata: [:]))
                return try SafeTensorsFile(path: out)
            }
            let (state, spare) = (dir.file("\(description.name)-state"), dir.file("\(description.name)-spare"))
            try form.write(previous: nil, adding: try all.prefix(3).map(member), removing: [], dtypes: all[2].adapter,
                           output: MergeOutput(path: dir.file("\(description.name)-first"), metadata: [:]), statePath: state, fingerprint: "f", rebase: nil)
            let saved = try #require(form.saved(at: state), "\(description.name): its state reads back")
            try form.write(previous: saved, adding: [try member(all[3])], removing: [try member(all[0])], dtypes: all[3].adapter,
                           output: MergeOutput(path: dir.file("\(description.name)-second"), metadata: [:]), statePath: spare, fingerprint: "f", rebase: nil)
            for (made, members) in [("first", Array(all.prefix(3))), ("second", Array(all.suffix(3)))] {
                let mine = try SafeTensorsFile(path: dir.file("\(description.name)-\(made)"))
                let theirs = try full(members, dir.file("\(description.name)-\(made)-full"))
                for tensor in theirs.tensors {
                    let (a, b) = (TestAdapter.values(mine, tensor.name), TestAdapter.values(theirs, tensor.name))
                    let worst = zip(a, b).map { abs($0 - $1) / max(1e-3, abs($1)) }.max() ?? 0
                    #expect(a.count == b.count && worst < 1e-6, "\(description.name) \(made) \(tensor.name): \(worst)")
                }
            }
        }
    }

    /// A member whose tensor has another shape (same bytes, dimensions swapped): every
    /// method's check refuses it, and so does its merge.
    @Test func everyMethodRefusesAShapeMismatch() throws {
        let source = try SafeTensorsFile(path: Fixtures.adapter(Fixtures.f32Run, 80))
        let swapped = try #require(source.tensors.first { $0.shape.count == 2 && $0.shape[0] != $0.shape[1] })
        let path = dir.file("swapped.safetensors")
        let writer = try SafeTensorsWriter(path: path, tensors: source.tensors.map {
            TensorSpec(name: $0.name, dtype: $0.dtype, shape: $0.name == swapped.name ? $0.shape.reversed() : $0.shape)
        }, metadata: ["format": "pt"])
        for tensor in writer.layout { try writer.append(source.bytes(of: source.tensor(named: tensor.name)!)) }
        try writer.finish()
        let config = try AdapterConfig(data: try Data(contentsOf: URL(fileURLWithPath: "\(Fixtures.checkpoint(Fixtures.f32Run, 80))/adapter_config.json")), source: "config")
        let good = MergeInput(name: "checkpoint-80", file: source, weight: 0.5, config: config)
        let bad = MergeInput(name: "swapped", file: try SafeTensorsFile(path: path), weight: 0.5, config: config)
        for description in Catalog.shared.methods {
            let method = try MergeSettings(window: 2, method: description.name).mergeMethod()
            #expect(throws: MergeError.self, "\(description.name)") { try method.checkMember(bad, reference: good) }
            let output = MergeOutput(path: dir.file("out-\(description.name).safetensors"), metadata: [:])
            #expect(throws: MergeError.self, "\(description.name)") { try method.write([bad, good], to: output) }
        }
    }

    /// Each publication target (for the layout that proposes it, or a PEFT run):
    /// publishes what it says it does, says so, freezes it unchanged, hands over an
    /// adapter, and leaves the previous publication whole when a merge fails.
    @Test func everyPublicationTargetKeepsItsPromises() throws {
        #expect(PublicationCatalog.all.contains { $0.name == "mirror" }, "the registered one is checked too")
        for description in PublicationCatalog.all {
            let run = description.name == "file" ? "\(Fixtures.root)/flat-kohya" : Fixtures.f32Run
            let (layout, members) = try Self.window(run, count: 2)
            let target = description.make(layout)
            let output = dir.file("\(description.name)/out")
            let plan = try MergePlan(checkpoints: members, settings: MergeSettings(window: 2, weighting: "uniform", method: "linear"))
            #expect(!target.isPublished(at: output))
            let manifest = try target.publish(plan, to: output)
            let published = target.target(at: output)
            #expect(target.target(at: published) == published, "\(description.name): target(at:) is idempotent")
            #expect(target.isPublished(at: output), "\(description.name)")
            #expect(manifest.outputSHA256 == (try FileDigest.sha256(ofFile: target.adapterPath(at: output))), "\(description.name)")
            // Frozen: the same adapter, under the layout's name.
            let frozen = dir.file("\(description.name)/frozen")
            try target.freeze(publishedAt: published, into: frozen)
            #expect((try FileDigest.sha256(ofFile: "\(frozen)/\(layout.output.adapterFile)")) == manifest.outputSHA256, "\(description.name)")
            // Handed over: the note with it, at the path it says.
            let note = HandOverNote(key: "mwa_test", manifest: Data(#"{"what":"test"}"#.utf8), fileName: "handed.safetensors")
            let handed = try target.handOver(frozen, to: dir.file("\(description.name)/best"), note: note)
            #expect(handed == target.handOverPath(at: dir.file("\(description.name)/best"), note: note), "\(description.name)")
            #expect(FileManager.default.fileExists(atPath: handed), "\(description.name)")
            // A merge that fails (a member of another run: other tensors) leaves the publication as it was.
            let before = FileManager.default.contents(atPath: target.adapterPath(at: output))
            let other = try Self.window("\(Fixtures.root)/\(description.name == "file" ? "flat-aitoolkit" : "trainer-run-bf16")", count: 1).members
            let failing = try MergePlan(checkpoints: [members[0]] + other, settings: MergeSettings(window: 2, weighting: "uniform", method: "linear"))
            #expect(throws: PublishError.self, "\(description.name)") { try target.publish(failing, to: output) }
            #expect(FileManager.default.contents(atPath: target.adapterPath(at: output)) == before, "\(description.name)")
            // Never inside a checkpoint folder, whatever the target.
            #expect(OutputPlacement.problem("\(Fixtures.f32Run)/checkpoint-80/merged", run: Fixtures.f32Run, target: target) != nil)
        }
    }
}
