import Foundation
import Ingest
import Ledger
import MWADTestKit
import Status
import Testing

/// `mwad run --once`, the interface of cron jobs and scripts: its exit status is its
/// whole answer, and a changed setting is never hidden behind an old merge.
@Suite struct OnceTests {
    func once(_ live: LiveRun, _ extra: [String] = [], ledger: String? = nil) throws -> MWADProcess.Result {
        try MWADProcess.run(["run", "--watch", live.run, "--out", live.output, "--ledger", ledger ?? live.ledger, "--once"] + extra,
                            environment: LiveRun.linearSettings.merging(["XDG_STATE_HOME": live.dir.file("xdg")]) { $1 })
    }

    func status(_ live: LiveRun) throws -> StatusReport {
        let result = try MWADProcess.run(["status", "--ledger", live.ledger, "--json"])
        return try StatusReport.decode(Data(result.stdout.utf8))
    }

    func fixtureRun(_ live: LiveRun, steps: ClosedRange<Int> = 1...8) throws {
        for step in steps {
            try FileManager.default.copyItem(atPath: Fixtures.checkpoint(Fixtures.f32Run, step * 10), toPath: "\(live.run)/checkpoint-\(step * 10)")
        }
    }

    @Test func aMissingWatchedDirectoryFailsAndCreatesNothing() throws {
        let live = try LiveRun(createRun: false)
        let result = try once(live)
        #expect(result.status == 1)
        #expect(result.stderr.contains("\(live.run): cannot read the run directory: no such folder"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: live.ledger))
        #expect(!FileManager.default.fileExists(atPath: live.dir.file("xdg")))
    }

    @Test func aFailedMergeFails() throws {
        let live = try LiveRun()
        try fixtureRun(live, steps: 1...3)
        try FileManager.default.createDirectory(atPath: live.output, withIntermediateDirectories: true)
        try Data("mine".utf8).write(to: URL(fileURLWithPath: "\(live.output)/notes.txt"))  // not an mwad folder
        let result = try once(live)
        #expect(result.status == 1, "\(result.stderr)")
        #expect(result.stderr.contains("merge failed; nothing is published yet"))
        #expect(result.stderr.contains("mwad: error: merge failed; nothing is published yet: \(live.output): refusing to replace the output"), "\(result.stderr)")
        // Fixed, it succeeds.
        try FileManager.default.removeItem(atPath: live.output)
        #expect(try once(live).status == 0)
    }

    @Test func aForeignLedgerIsRefusedAndLeftAsItWas() throws {
        let other = try LiveRun()
        try fixtureRun(other, steps: 1...3)
        #expect(try once(other).status == 0)
        let before = try status(other)
        let live = try LiveRun()
        try fixtureRun(live, steps: 4...5)
        let result = try once(live, ledger: other.ledger)
        #expect(result.status == 1)
        #expect(result.stderr.contains("this ledger belongs to the run in \(other.run), not \(live.run)"), "\(result.stderr)")
        #expect(result.stderr.components(separatedBy: "belongs to the run").count == 2, "said once")
        #expect(!FileManager.default.fileExists(atPath: live.output), "no merge tried")
        let after = try status(other)
        #expect(after.checkpoints == nil && after.counts.ingested == before.counts.ingested)
        #expect(after.merge?.id == before.merge?.id && after.daemon.lastError == before.daemon.lastError)
        #expect(after.daemon.started == before.daemon.started && after.run?.watch == other.run)
    }

    @Test func aLockedLedgerFails() throws {
        let live = try LiveRun()
        let daemon = try live.start()
        let result = try once(live)
        #expect(result.status == 1)
        #expect(result.stderr.contains("another mwad (pid \(daemon.process.processIdentifier)) is using \(live.ledger)"), "\(result.stderr)")
        #expect(daemon.stop() == 0)
    }

    /// Every setting that changes the merged bytes republishes, and status shows the
    /// settings the published merge was made with.
    @Test func aChangedSettingRepublishes() throws {
        let live = try LiveRun()
        try fixtureRun(live)
        #expect(try once(live).status == 0)
        var fingerprints = [try #require(try status(live).merge?.fingerprint)]
        for change in [["--smoothing", "4"], ["--smoothing", "4", "--penalty", "20"],
                       ["--smoothing", "4", "--penalty", "20", "--metric", "eval_loss"],
                       ["--smoothing", "4", "--penalty", "20", "--metric", "eval_loss", "--window", "3"]] {
            let result = try once(live, change)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stderr.contains("published merge #\(fingerprints.count + 1)"), "\(change): \(result.stderr)")
            let merge = try #require(try status(live).merge)
            #expect(merge.smoothing == 4 && merge.settings.smoothing == 4)
            #expect(merge.madeWithSettingsInForce)
            fingerprints.append(merge.fingerprint)
        }
        #expect(Set(fingerprints).count == 5)
        let merge = try #require(try status(live).merge)
        #expect(merge.settings.penalty == 20 && merge.settings.metric == .evalLoss && merge.window == 3 && merge.metric == "eval_loss")
        #expect(merge.members.count == 3)
        // The same settings again: nothing to do.
        let again = try once(live, ["--smoothing", "4", "--penalty", "20", "--metric", "eval_loss", "--window", "3"])
        #expect(again.status == 0 && !again.stderr.contains("published merge"))
        // The method, a weighting's parameter and the window's kind are settings too.
        let base = ["--smoothing", "4", "--metric", "eval_loss", "--window", "3"]
        for change in [["--method", "delta", "--weighting", "ema", "--half-life", "20"],
                       ["--method", "delta", "--weighting", "ema", "--half-life", "30"],
                       ["--method", "linear", "--weighting", "ema", "--half-life", "30"],
                       ["--method", "linear", "--weighting", "ema", "--half-life", "30", "--stride", "2"],
                       ["--method", "linear", "--weighting", "ema", "--half-life", "30", "--stride", "2", "--window-steps", "20"]]
                     + (LAPACKInstalled.here ? [["--method", "svd", "--rank", "4", "--weighting", "ema", "--half-life", "30", "--stride", "2", "--window-steps", "20"]] : []) {
            let result = try once(live, base + change)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stderr.contains("published merge #\(fingerprints.count + 1)"), "\(change): \(result.stderr)")
            let merge = try #require(try status(live).merge)
            #expect(merge.madeWithSettingsInForce && !fingerprints.contains(merge.fingerprint))
            let halfLife = try #require(change.firstIndex(of: "--half-life").flatMap { Double(change[$0 + 1]) })
            #expect(merge.method == change[1] && merge.settings.parameters["half_life"] == .number(halfLife))
            fingerprints.append(merge.fingerprint)
        }
        let last = try #require(try status(live).merge)
        // Stride 2 within 20 steps of checkpoint-80: 80 and 60.
        #expect(last.members.map(\.step) == [60, 80] && last.windowKind == "the last 3 within 20 steps, every 2nd")
        if LAPACKInstalled.here { #expect(last.report?.rank == 4 && last.report?.truncationError != nil) }
    }

    /// The metric the merge weighs by is the one the log and status name.
    @Test func theWeightingMetricIsNamed() throws {
        let live = try LiveRun()
        try fixtureRun(live, steps: 7...8)
        let result = try once(live, ["--metric", "eval_loss"])
        #expect(result.stderr.contains("ingested checkpoint-80 (eval_loss 3.7"), "\(result.stderr)")
        #expect(!result.stderr.contains("train_loss 3."))
        let human = try MWADProcess.run(["status", "--ledger", live.ledger]).stdout
        #expect(human.contains("last checkpoint-80 at") && human.contains("(eval_loss 3.7"), "\(human)")
        #expect(human.contains("step  checkpoint              eval_loss    weight"), "\(human)")
        // checkpoint-70's eval_loss was logged at step 60 (eval every 20 steps, saves
        // every 10): status says so instead of passing it off as step 70's.
        #expect(human.contains("70  checkpoint-70  3.735828 (step 60)"), "\(human)")
        #expect(result.stderr.contains("checkpoint-70 weighs by eval_loss logged at step 60"), "\(result.stderr)")
    }

    /// Restarted with a larger window, evicted checkpoints whose folders still hold the
    /// same adapter come back; where they are gone, status says why the window is short.
    @Test func theWindowIsRefilledAfterARestart() throws {
        let live = try LiveRun()
        try fixtureRun(live, steps: 1...5)
        #expect(try once(live, ["--window", "3"]).status == 0)
        #expect(try status(live).merge?.members.map(\.step) == [30, 40, 50])
        let grown = try once(live, ["--window", "5"])
        #expect(grown.status == 0, "\(grown.stderr)")
        #expect(grown.stderr.contains("checkpoint-20 is back in the window of 5"), "\(grown.stderr)")
        #expect(try status(live).merge?.members.map(\.step) == [10, 20, 30, 40, 50])

        #expect(try once(live, ["--window", "2"]).status == 0)
        for step in [10, 20] { try FileManager.default.removeItem(atPath: "\(live.run)/checkpoint-\(step)") }
        let short = try once(live, ["--window", "5"])
        #expect(short.status == 0, "\(short.stderr)")
        #expect(short.stderr.contains("window short: 3 of 5"), "\(short.stderr)")
        let merge = try #require(try status(live).merge)
        #expect(merge.members.map(\.step) == [30, 40, 50])
        #expect(merge.windowShort == "3 of 5: checkpoint-10, checkpoint-20 were evicted before the window grew, and their folders no longer hold the same adapter")
        let human = try MWADProcess.run(["status", "--ledger", live.ledger]).stdout
        #expect(human.contains("window short: 3 of 5"), "\(human)")
    }

    /// A kohya file half-written (saved in place) is no merge yet: exit 1, saying so.
    @Test func aHalfWrittenKohyaFileIsNothingToMergeYet() throws {
        let live = try LiveRun()
        let whole = try Data(contentsOf: URL(fileURLWithPath: "\(Fixtures.root)/flat-kohya/pixel-step00000010.safetensors"))
        try whole.prefix(1000).write(to: URL(fileURLWithPath: "\(live.run)/pixel-step00000010.safetensors"))
        let result = try once(live)
        #expect(result.status == 1 && result.stderr.contains("no complete checkpoint in \(live.run) yet: 1 is still being written or incomplete"),
                "\(result.stderr)")
    }

    /// Nothing to merge is a failure a script sees, with what to do: an empty run, a
    /// checkpoint folder given as the run, adapters saved as PyTorch pickles (refused
    /// at once, not after the settle time).
    @Test func nothingToMergeExitsOneSayingWhy() throws {
        let live = try LiveRun()
        var result = try once(live)
        #expect(result.status == 1 && result.stderr.contains("no checkpoint in \(live.run) as a trainer mwad knows names them (huggingface: checkpoint-<step>/ with adapter_model.safetensors"), "\(result.stderr)")
        // Every layout of the catalog, as its description says it.
        for layout in LayoutCatalog.builtIn.map(\.description) {
            #expect(result.stderr.contains("\(layout.name): \(layout.checkpoint)"), "\(layout.name): \(result.stderr)")
        }
        try TrainerWriter(runDirectory: live.run).save(step: 10)
        let folder = "\(live.run)/checkpoint-10"
        result = try MWADProcess.run(["run", "--watch", folder, "--out", live.output, "--ledger", live.dir.file("other/ledger.sqlite"), "--once"],
                                     environment: LiveRun.linearSettings.merging(["XDG_STATE_HOME": live.dir.file("xdg")]) { $1 })
        #expect(result.status == 78 && result.stderr.contains("\(folder) is one checkpoint of a huggingface run (checkpoint-10 holds adapter_model.safetensors), not a run: give the run, its parent \(live.run)"),
                "\(result.stderr)")
        try FileManager.default.moveItem(atPath: "\(folder)/adapter_model.safetensors", toPath: "\(folder)/adapter_model.bin")
        result = try once(live, ["--ledger", live.dir.file("pickle/ledger.sqlite")])
        #expect(result.status == 1, "\(result.stderr)")
        #expect(result.stderr.contains("adapter_model.safetensors is missing; it holds adapter_model.bin, a PyTorch pickle, which mwad does not read: save the adapter as safetensors (safe_serialization=True"),
                "\(result.stderr)")
        #expect(!result.stderr.contains("waiting"), "refused at once: \(result.stderr)")
        let merge = try MWADProcess.run(["merge", live.run, "--out", live.dir.file("m")])
        #expect(merge.status == 1 && merge.stderr.contains("it holds adapter_model.bin, a PyTorch pickle"), "\(merge.stderr)")
    }
}
