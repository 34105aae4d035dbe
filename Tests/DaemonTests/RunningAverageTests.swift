import Foundation
import Ledger
import MWADTestKit
import Testing

/// `window: all` with an EMA: the merge of every checkpoint of the run, kept as a
/// running sum, with disk flat — only the newest checkpoint's copy is retained, even
/// though the trainer rotates every older folder away.
@Suite struct RunningAverageTests {
    func pass(_ live: LiveRun, _ settings: [String]) throws -> MWADProcess.Result {
        try MWADProcess.run(["run", "--watch", live.run, "--out", live.output, "--ledger", live.ledger, "--once"] + settings,
                            environment: ["XDG_STATE_HOME": live.dir.file("xdg")])
    }

    func retainedCopies(_ live: LiveRun) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: live.dir.file("state/retained"))) ?? []).filter { !$0.hasPrefix(".") }
    }

    @Test(arguments: ["20", "0.05"])  // 0.05 steps: scores 14 apart per step, the sum's reference must move
    func theWholeRunIsAveragedWithOneCopyRetained(_ halfLife: String) throws {
        let live = try LiveRun()
        let settings = ["--window", "all", "--weighting", "ema", "--half-life", halfLife, "--method", "linear"]
        let trainer = TrainerWriter(runDirectory: live.run, saveTotalLimit: 1)
        let archive = TrainerWriter(runDirectory: live.dir.file("archive"))  // the same checkpoints, none deleted
        for step in stride(from: 10, through: 80, by: 10) {
            try trainer.save(step: step)
            try archive.save(step: step)
            let result = try pass(live, settings)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stderr.contains("published merge #\(step / 10) of \(step / 10 == 1 ? "1 checkpoint" : "\(step / 10) checkpoints")"), "\(result.stderr)")
            #expect(step == 10 || result.stderr.contains("incremental: +1 −0"), "\(result.stderr)")
            #expect(retainedCopies(live).count == 1, "only the newest is kept: \(retainedCopies(live))")
            // The published merge is the exact EMA of every checkpoint so far.
            let reference = live.dir.file("reference-\(step)")
            let exact = try MWADProcess.run(["merge", live.dir.file("archive"), "--out", reference] + settings)
            #expect(exact.status == 0, "\(exact.stderr)")
            #expect(try TestAdapter.deviation("\(live.output)/adapter_model.safetensors", "\(reference)/adapter_model.safetensors") <= 1e-6)
        }
        let snapshot = try #require(live.snapshot())
        #expect(snapshot.members.count == 8 && snapshot.checkpoints.filter { $0.status == .evicted }.count == 7)
        #expect(abs(snapshot.members.map(\.weight).reduce(0, +) - 1) < 1e-9)
        // Nothing new: nothing to do, and the exit status says the merge is current.
        let again = try pass(live, settings)
        #expect(again.status == 0 && !again.stderr.contains("published merge"), "\(again.stderr)")
    }

    @Test func aSumThatCannotBeTrustedIsRecomputedFromWhatIsRetainedAndSaysSo() throws {
        let live = try LiveRun()
        let settings = ["--window", "all", "--weighting", "ema", "--half-life", "20", "--method", "linear"]
        let trainer = TrainerWriter(runDirectory: live.run, saveTotalLimit: 1)
        for step in [10, 20, 30] {
            try trainer.save(step: step)
            #expect(try pass(live, settings).status == 0)
        }
        try FileManager.default.removeItem(atPath: live.dir.file("state/window-sum.safetensors"))
        try trainer.save(step: 40)
        let result = try pass(live, settings)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("the running average is recomputed from the 2 checkpoints still retained: 2 older ones"), "\(result.stderr)")
        #expect(try #require(live.snapshot()).members.count == 2)
    }

    @Test func windowAllIsRefusedWhereNoRunningAverageCanBeKept() throws {
        let live = try LiveRun()
        for extra in [["--method", "delta", "--weighting", "ema", "--half-life", "20"], ["--method", "linear", "--weighting", "schedule"],
                      ["--method", "linear", "--weighting", "ema"]] {
            let result = try pass(live, ["--window", "all"] + extra)
            #expect(result.status != 0 && result.stderr.contains("window all needs a weighting whose weights each depend on one checkpoint"),
                    "\(extra): \(result.stderr)")
        }
    }
}
