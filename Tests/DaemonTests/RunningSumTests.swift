import Foundation
import Ledger
import MWADTestKit
import Testing

/// When the daemon updates its running window sum, and when it recomputes it exactly.
@Suite struct RunningSumTests {
    /// `mwad run --once` after saving `step`; returns how the merge was made.
    func pass(_ live: LiveRun, step: Int, environment: [String: String] = [:]) throws -> String {
        try TrainerWriter(runDirectory: live.run).save(step: step)
        let result = try MWADProcess.run(["run", "--watch", live.run, "--out", live.output, "--ledger", live.ledger,
                                          "--once", "--window", "3"],
                                         environment: MWADProcess.environment.merging(environment) { $1 }
                                            .merging(["XDG_STATE_HOME": live.dir.file("xdg")]) { $1 })
        #expect(result.status == 0, "\(result.stderr)")
        guard let line = result.stderr.split(separator: "\n").first(where: { $0.contains("published merge") }) else { return "none" }
        return line.contains(", exact)") ? "exact" : line.contains(", incremental: +1 −1)") ? "incremental" : String(line)
    }

    @Test func exactAtFirstEveryKUpdatesAndWhenTheSavedSumIsGone() throws {
        let live = try LiveRun()
        let every = ["MWAD_MERGE_RECOMPUTE_EVERY": "2", "MWAD_STATE_DIRECTORY": live.dir.file("state-dir")]
        #expect(try pass(live, step: 10, environment: every) == "exact")
        _ = try pass(live, step: 20, environment: every)
        _ = try pass(live, step: 30, environment: every)
        #expect(try pass(live, step: 40, environment: every) == "exact")  // state: exact, +1, +2, then recompute
        #expect(try pass(live, step: 50, environment: every) == "incremental")
        #expect(try pass(live, step: 60, environment: every) == "incremental")
        #expect(try pass(live, step: 70, environment: every) == "exact")
        try FileManager.default.removeItem(atPath: live.dir.file("state-dir/window-sum.safetensors"))
        #expect(try pass(live, step: 80, environment: every) == "exact")
        #expect(try pass(live, step: 90, environment: every) == "incremental")
        // A saved sum that does not match the published window is not trusted.
        let saved = live.dir.file("state-dir/window-sum.safetensors")
        try FileManager.default.copyItem(atPath: saved, toPath: live.dir.file("old-sum"))
        #expect(try pass(live, step: 100, environment: every) == "incremental")
        try FileManager.default.removeItem(atPath: saved)
        try FileManager.default.copyItem(atPath: live.dir.file("old-sum"), toPath: saved)
        #expect(try pass(live, step: 110, environment: every) == "exact")
        // The published merge still matches a clean merge of the window.
        let snapshot = try #require(live.snapshot())
        let retained = snapshot.members.compactMap { snapshot.checkpoint(id: $0.checkpointID)?.retainedPath }
        let reference = live.dir.file("reference")
        #expect(try MWADProcess.run(["merge", "--checkpoints"] + retained + ["--out", reference]).status == 0)
        #expect(try TestAdapter.deviation("\(live.output)/adapter_model.safetensors", "\(reference)/adapter_model.safetensors") <= 1e-6)
    }
}
