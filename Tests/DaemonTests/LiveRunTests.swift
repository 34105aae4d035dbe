import Foundation
import Ledger
import MWADTestKit
import SafeTensors
import Testing

/// The real daemon binary, as a child process, following a trainer that writes in
/// HF Trainer's order.
@Suite(.serialized) struct LiveRunTests {
    /// 30 checkpoints with save_total_limit=2: all in the ledger, the merge equal to a
    /// clean `mwad merge` of the last 5 retained copies, SIGTERM exits 0.
    @Test(arguments: ["inotify", "poll"])
    func followsATrainingRunWithRotation(_ mode: String) throws {
        let live = try LiveRun()
        let daemon = try live.start(["--window", "5", "--watch-mode", mode],
                                    environment: ["MWAD_WATCH_POLL_INTERVAL": "0.1", "MWAD_MERGE_RUNNING_SUM": "always"])
        let writer = TrainerWriter(runDirectory: live.run, saveTotalLimit: 2)
        // A checkpoint lives for two saves before rotation deletes it: 0.5 s here,
        // minutes in real training. The daemon copies it well within that.
        for index in 1...30 {
            try writer.save(step: index * 10, pause: 0.002)
            usleep(250_000)
        }
        #expect(live.waitForMerge(through: 300), "\(daemon.log)")
        #expect(daemon.stop() == 0)
        #expect(daemon.log.contains("INFO stopped"))

        let snapshot = try #require(live.snapshot())
        #expect(Set(snapshot.checkpoints.map(\.step)) == Set((1...30).map { Int64($0 * 10) }))
        #expect(snapshot.checkpoints.count == 30)
        #expect(snapshot.checkpoints.allSatisfy { $0.status == .ingested || $0.status == .evicted })
        #expect(snapshot.checkpoints.filter { $0.status == .ingested }.map(\.step) == [260, 270, 280, 290, 300])
        #expect(snapshot.daemon?.stoppedAt != nil)

        // The published merge is what `mwad merge` makes of the retained copies (the
        // daemon's running F64 sum and the command's F32 sum differ in rounding only).
        let retained = snapshot.members.compactMap { snapshot.checkpoint(id: $0.checkpointID)?.retainedPath }
        #expect(retained.count == 5)
        let reference = live.dir.file("reference")
        let result = try MWADProcess.run(["merge", "--method", "linear", "--weighting", "loss", "--checkpoints"] + retained + ["--out", reference])
        #expect(result.status == 0, "\(result.stderr)")
        let deviation = try TestAdapter.deviation("\(live.output)/adapter_model.safetensors", "\(reference)/adapter_model.safetensors")
        #expect(deviation <= 1e-6, "relative deviation \(deviation)")
        #expect(daemon.log.contains(", incremental: +"), "the later merges update the running sum")
        // Only the window's copies are kept.
        let kept = try FileManager.default.contentsOfDirectory(atPath: live.dir.file("state/retained"))  // beside the ledger
        #expect(kept.count == 5)
    }

    @Test func filesWrittenBeforeTheWatchWasAddedAreNotMissed() throws {
        let live = try LiveRun()
        let daemon = try live.start()
        try live.moveIn(step: 10)
        #expect(live.waitForMerge(through: 10), "\(daemon.log)")
        #expect(daemon.stop() == 0)
    }

    @Test func aBurstOfCheckpointsYieldsOneMerge() throws {
        let live = try LiveRun()
        let daemon = try live.start()
        for step in [10, 20, 30, 40, 50] { try live.moveIn(step: step) }
        // A burst split in two would have merged part of it before the merge through
        // 50: counted once that one is there, no waiting for "nothing more" is needed.
        #expect(live.waitForMerge(through: 50), "\(daemon.log)")
        #expect(daemon.stop() == 0)
        #expect(daemon.log.components(separatedBy: "published merge #").count - 1 == 1, "\(daemon.log)")
    }

    @Test func checkpointsPresentAtStartYieldOneMerge() throws {
        let live = try LiveRun()
        let writer = TrainerWriter(runDirectory: live.run)
        for step in stride(from: 10, through: 80, by: 10) { try writer.save(step: step) }
        let result = try MWADProcess.run(["run", "--watch", live.run, "--out", live.output, "--ledger", live.ledger, "--once"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.components(separatedBy: "published merge #").count - 1 == 1)
        let snapshot = try #require(live.snapshot())
        #expect(snapshot.checkpoints.count == 8)
        #expect(snapshot.merge?.id == 1)
        // Run again: nothing changed, nothing merged.
        let again = try MWADProcess.run(["run", "--watch", live.run, "--out", live.output, "--ledger", live.ledger, "--once"])
        #expect(again.status == 0)
        #expect(!again.stderr.contains("published merge"))
    }

    @Test func theWatchedDirectoryDeletedAndRecreated() throws {
        let live = try LiveRun()
        let daemon = try live.start()
        try live.moveIn(step: 10)
        #expect(live.waitForMerge(through: 10))
        try FileManager.default.removeItem(atPath: live.run)
        #expect(daemon.waitForLog("waiting for it to come back"), "\(daemon.log)")
        try FileManager.default.createDirectory(atPath: live.run, withIntermediateDirectories: true)
        try live.moveIn(step: 20)
        #expect(live.waitForMerge(through: 20), "\(daemon.log)")
        #expect(daemon.stop() == 0)
    }

    @Test func waitsForTheRunDirectoryToAppear() throws {
        let live = try LiveRun(createRun: false)
        let daemon = try live.start()
        #expect(daemon.log.contains("waiting for \(live.run) to appear"))
        try FileManager.default.createDirectory(atPath: live.run, withIntermediateDirectories: true)
        try live.moveIn(step: 10)
        #expect(live.waitForMerge(through: 10), "\(daemon.log)")
        #expect(daemon.stop() == 0)
    }

    @Test func aFloodOfEventsOverflowsAndTriggersARescan() throws {
        let live = try LiveRun()
        let daemon = try live.start(environment: ["MWAD_WATCH_DEBOUNCE": "3"])
        let writer = TrainerWriter(runDirectory: live.run)
        try writer.save(step: 10)
        let noisy = "\(live.run)/checkpoint-10"
        #expect(live.waitForMerge(through: 10), "\(daemon.log)")
        // The daemon drains events as they come; stopped, it cannot, and the kernel's
        // queue (16384 events by default) overflows.
        kill(daemon.process.processIdentifier, SIGSTOP)
        for index in 0..<30_000 { _ = FileManager.default.createFile(atPath: "\(noisy)/event-\(index)", contents: nil) }
        try writer.save(step: 20)
        kill(daemon.process.processIdentifier, SIGCONT)
        #expect(live.waitForMerge(through: 20), "\(daemon.log)")
        #expect(daemon.log.contains("inotify queue overflowed; rescanning"), "\(daemon.log)")
        #expect(daemon.stop() == 0)
    }

    @Test func aBrokenCheckpointIsRejectedOnceAndTheMergeGoesOn() throws {
        let live = try LiveRun()
        let daemon = try live.start()
        let writer = TrainerWriter(runDirectory: live.run)
        try writer.save(step: 10)
        try writer.save(step: 20)
        #expect(live.waitForMerge(through: 20))
        // checkpoint-30: a truncated adapter under a complete trainer_state.json, moved in
        // whole (the daemon ingests at once: a good version written first would be
        // ingested, and the broken one then replace it).
        let staging = live.dir.file("staging30")
        try FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: true)
        try TrainerWriter(runDirectory: staging).save(step: 30)
        try FileHandle(forWritingTo: URL(fileURLWithPath: "\(staging)/checkpoint-30/adapter_model.safetensors")).truncate(atOffset: 5000)
        try FileManager.default.moveItem(atPath: "\(staging)/checkpoint-30", toPath: "\(live.run)/checkpoint-30")
        try writer.save(step: 40)
        #expect(live.waitForMerge(through: 40), "\(daemon.log)")
        let snapshot = try #require(live.snapshot())
        let rejected = try #require(snapshot.checkpoints.first { $0.step == 30 })
        #expect(rejected.status == .rejected)
        #expect(rejected.reason?.contains("file is truncated") == true)
        #expect(snapshot.members.compactMap { snapshot.checkpoint(id: $0.checkpointID)?.step } == [10, 20, 40])
        usleep(300_000)
        #expect(daemon.stop() == 0)
        #expect(daemon.log.components(separatedBy: "rejected checkpoint-30").count - 1 == 1, "logged once: \(daemon.log)")
    }
}
