import Foundation
import Ledger
import MWADTestKit
import SafeTensors
import TensorBoard
import Testing

/// `tensorboard.logdir: auto`: mwad's scores and weights land beside the trainer's
/// own event files (a diffusers run's `logs/`), at the step of the merge's newest
/// member, and read back with the trainer's loss from the same folder.
@Suite struct ScoreBoardTests {
    func rms(_ path: String) throws -> Double { try TestAdapter.rms(ofFile: path) }

    @Test func scoresOfTheMergeTheNewestCheckpointAndACandidateAreLoggedAtTheNewestStep() throws {
        let live = try LiveRun(createRun: false)
        try FileManager.default.copyItem(atPath: "\(Fixtures.root)/diffusers-run", toPath: live.run)
        let environment = [
            "MWAD_EVAL_COMMAND": ["/usr/bin/python3", "\(Fixtures.root)/evaluators/norm_eval.py"].joined(separator: ","),
            "MWAD_EVAL_CANDIDATES": "weighting=uniform;window=2", "MWAD_TENSORBOARD_LOGDIR": "auto",
            "MWAD_MERGE_METHOD": "delta", "MWAD_MERGE_WEIGHTING": "loss", "MWAD_MERGE_WINDOW": "3",
            "XDG_STATE_HOME": live.dir.file("xdg"),
        ]
        let result = try MWADProcess.run(["run", "--watch", live.run, "--out", live.output, "--ledger", live.ledger, "--once"],
                                         environment: environment)
        #expect(result.status == 0, "\(result.stderr)")
        let logs = "\(live.run)/logs/mwad"
        func points(_ tag: String) -> [ScalarLog.Point] {
            let log = ScalarLog(directory: logs, tag: tag)
            log.refresh()
            return log.points
        }
        let merge = points("mwad/eval/merge"), newest = points("mwad/eval/newest_checkpoint")
        #expect(merge.map(\.step) == [40] && newest.map(\.step) == [40], "at the newest member's step")
        let mergeScore = try rms("\(live.output)/pytorch_lora_weights.safetensors")
        let newestScore = try rms("\(live.run)/checkpoint-40/pytorch_lora_weights.safetensors")
        #expect(abs(merge[0].value - mergeScore) < 1e-6 * mergeScore)  // logged as F32
        #expect(abs(newest[0].value - newestScore) < 1e-6 * newestScore)
        #expect(points("mwad/eval/candidate_1").count == 1)
        let percent = try #require(points("mwad/eval/merge_vs_newest_percent").first).value
        #expect(abs(percent - (mergeScore - newestScore) / newestScore * 100) < 1e-3)
        let ledger = try LedgerReader(path: live.ledger).snapshot()
        let best = try #require(ledger.evaluations.firstIndex { $0.best })
        #expect(points("mwad/eval/best").first?.value == Double(best))
        #expect(points("mwad/merge/members") == [ScalarLog.Point(step: 40, value: 3, wallTime: points("mwad/merge/members").first?.wallTime ?? 0)])
        // The trainer's own curve, read from the same folder tree.
        let trainer = ScalarLog(directory: "\(live.run)/logs", tag: "train_loss")
        #expect(trainer.refresh() == [])
        #expect(trainer.points.count == 40)
    }
}
