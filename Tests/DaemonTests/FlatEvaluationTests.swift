import Foundation
import Ledger
import MWADTestKit
import SafeTensors
import Testing

/// Evaluation of a kohya run: the evaluator is handed each adapter as the file such
/// users' scripts load, and the best is published as one file with its manifest inside.
@Suite struct FlatEvaluationTests {
    func rms(_ file: String) throws -> Double { try TestAdapter.rms(ofFile: file) }

    @Test func eachAdapterIsScoredAsAFileAndTheBestIsOneFile() throws {
        let live = try LiveRun()
        let fixture = "\(Fixtures.root)/flat-kohya"
        for name in try FileManager.default.contentsOfDirectory(atPath: fixture) {
            try FileManager.default.copyItem(atPath: "\(fixture)/\(name)", toPath: "\(live.run)/\(name)")
        }
        let best = live.dir.file("loras")
        var environment = EvaluationTests().environment(live, candidates: "weighting=uniform;window=2")
        environment["MWAD_EVAL_BEST_OUTPUT"] = best
        // An output file of its own name: frozen for evaluation under the layout's.
        let published = live.dir.file("merged/chosen.safetensors")
        let result = try MWADProcess.run(["run", "--watch", live.run, "--out", published, "--ledger", live.ledger, "--once",
                                          "--window", "3", "--method", "delta"], environment: LiveRun.linearSettings.merging(environment) { $1 })
        #expect(result.status == 0, "\(result.stderr)")
        let snapshot = try #require(live.snapshot())
        #expect(snapshot.merge?.outputPath == published)
        let evaluations = snapshot.evaluations
        #expect(evaluations.map(\.target) == [.merge, .checkpoint, .candidate, .candidate], "\(result.stderr)")
        #expect(evaluations.allSatisfy { $0.status == .ok }, "\(evaluations.map { $0.error ?? "" })")
        #expect(abs(evaluations[0].value! - (try rms(published))) < 1e-6, "the published file")
        #expect(abs(evaluations[1].value! - (try rms("\(fixture)/pixel-step00000040.safetensors"))) < 1e-9, "the trainer's file")

        let index = try #require(evaluations.firstIndex { $0.best })
        let file = "\(best)/pixel-mwa-best.safetensors"
        #expect(snapshot.best?.outputPath == file)
        #expect(try FileManager.default.contentsOfDirectory(atPath: best) == ["pixel-mwa-best.safetensors"], "one file")
        #expect(abs((try rms(file)) - evaluations[index].value!) < 1e-6, "the chosen adapter's tensors")
        let metadata = try #require(try SafeTensorsFile(path: file).metadata)
        let text = try #require(metadata["mwa_best"])
        let manifest = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect((manifest["chosen"] as? [String: Any])?["target"] as? String == evaluations[index].target.rawValue)
        #expect((manifest["scores"] as? [[String: Any]])?.count == 4)
        #expect(result.stderr.contains("→ \(file)"), "\(result.stderr)")
        let status = try MWADProcess.run(["status", "--ledger", live.ledger])
        #expect(status.stdout.contains("→ \(published)") && status.stdout.contains("→ \(file)"), "the merge's file and the best's: \(status.stdout)")
    }
}
