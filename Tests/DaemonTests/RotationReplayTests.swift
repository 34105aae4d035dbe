import Foundation
import Ledger
import MWADTestKit
import Testing

/// The trainer at the speed limit: HF Trainer's write order with `save_total_limit` 1,
/// so each checkpoint is deleted by the next save, and the daemon started before the
/// run directory exists. No checkpoint may be absent from the ledger.
@Suite(.serialized) struct RotationReplayTests {
    /// Replays 20 saves `apart` seconds apart; returns the ledger's rows once the last is merged.
    func replay(apart: Double) throws -> (rows: [CheckpointRecord], log: String) {
        let live = try LiveRun(createRun: false)
        let daemon = try live.start()
        #expect(daemon.log.contains("waiting for \(live.run) to appear"))
        try FileManager.default.createDirectory(atPath: live.run, withIntermediateDirectories: true)
        let writer = TrainerWriter(runDirectory: live.run, saveTotalLimit: 1)
        for step in stride(from: 10, through: 200, by: 10) {
            try writer.save(step: step)
            usleep(UInt32(apart * 1_000_000))
        }
        #expect(live.waitForMerge(through: 200), "\(daemon.log)")
        #expect(daemon.stop() == 0)
        return (try #require(live.snapshot()).checkpoints, daemon.log)
    }

    /// 50 ms apart, and back to back (where some are deleted within milliseconds).
    @Test(arguments: [0.05, 0])
    func everyStepIsIngestedOrMissed(apart: Double) throws {
        let (rows, log) = try replay(apart: apart)
        #expect(rows.map(\.step) == Array(stride(from: 10, through: 200, by: 10)).map(Int64.init), "absent: \(log)")
        #expect(rows.allSatisfy { [.ingested, .evicted, .missed].contains($0.status) }, "\(rows.map { "\($0.step) \($0.status)" })")
        for row in rows where row.status == .missed {
            #expect(row.reason?.contains("\(row.name) was deleted within") == true, "\(row.reason ?? "")")
            #expect(log.contains("WARNING missed \(row.name): "), "logged once")
        }
        print("\(Int(apart * 1000)) ms apart: \(rows.filter { $0.status != .missed }.count) ingested, \(rows.filter { $0.status == .missed }.count) missed, 0 absent")
    }

    @Test func at300msEveryStepIsIngested() throws {
        let (rows, log) = try replay(apart: 0.3)
        #expect(rows.map(\.step) == Array(stride(from: 10, through: 200, by: 10)).map(Int64.init), "absent: \(log)")
        #expect(rows.allSatisfy { $0.status == .ingested || $0.status == .evicted }, "\(rows.map { "\($0.step) \($0.status) \($0.reason ?? "")" })")
    }

    /// HF Trainer's rotation as `shutil.rmtree` does it, file by file with pauses (the
    /// adapter first and `trainer_state.json` last, as seen on real runs, or the marker
    /// first), under a window larger and one smaller than what the trainer keeps: no
    /// row replaced or rejected, and every merge's members are the newest checkpoints
    /// ingested by then, retained copies included.
    @Test(arguments: [(5, 2, "adapter_model.safetensors"), (2, 3, "adapter_model.safetensors"), (5, 2, "trainer_state.json"),
                      (5, 2, "adapter_config.json")])
    func aRotationFileByFileIsADeletion(window: Int, limit: Int, first: String) throws {
        let live = try LiveRun()
        // Polling every 20 ms looks in between every two files the rotation deletes; a
        // settle time shorter than a save's interval, as on real runs (saves minutes
        // apart, settle time 10 s), judges what is left of a folder at once.
        let daemon = try live.start(environment: ["MWAD_MERGE_WINDOW": "\(window)", "MWAD_WATCH_MODE": "poll", "MWAD_WATCH_POLL_INTERVAL": "0.02",
                                                  "MWAD_WATCH_SETTLE_TIME": "0.05"])
        let deletion = FolderDeletion(first: [first], pause: 0.05)
        let writer = TrainerWriter(runDirectory: live.run, saveTotalLimit: limit, deletion: deletion)
        for step in stride(from: 10, through: 100, by: 10) {
            try writer.save(step: step)
            usleep(200_000)
        }
        #expect(live.waitForMerge(through: 100), "\(daemon.log)")
        #expect(daemon.stop() == 0)
        let rows = try #require(live.snapshot()).checkpoints
        #expect(rows.map(\.step) == Array(stride(from: 10, through: 100, by: 10)).map(Int64.init))
        #expect(rows.allSatisfy { $0.status == .ingested || $0.status == .evicted }, "\(rows.map { "\($0.step) \($0.status) \($0.reason ?? "")" })")
        #expect(!daemon.log.contains("written again") && !daemon.log.contains("rejected"), "\(daemon.log)")
        for (newest, members) in try Self.mergeMembers(live.ledger) {
            let expected = Array(stride(from: max(10, newest - Int64(10 * (window - 1))), through: newest, by: 10))
            #expect(members == expected, "the merge through \(newest): \(members)")
        }
    }

    /// Every merge's member steps, by its newest member, read with Python's sqlite3.
    static func mergeMembers(_ ledger: String) throws -> [(Int64, [Int64])] {
        let script = """
        import sqlite3, sys
        db = sqlite3.connect(sys.argv[1])
        for (merge,) in db.execute("SELECT id FROM merge ORDER BY id"):
            steps = [s for (s,) in db.execute("SELECT c.step FROM merge_member m JOIN checkpoint c ON c.id = m.checkpoint_id WHERE m.merge_id = ? ORDER BY c.step", (merge,))]
            print(" ".join(map(str, steps)))
        """
        let result = try MWADProcess.run(["-c", script, ledger], executable: "/usr/bin/python3")
        return result.stdout.split(separator: "\n").map { line in
            let steps = line.split(separator: " ").compactMap { Int64($0) }
            return (steps.last ?? 0, steps)
        }
    }
}

/// diffusers' delete-before-save and torchtune's `keep_last_n_checkpoints`, each
/// deleting a folder file by file with pauses while a daemon polls every 20 ms: a
/// disappearing folder is a deletion, never a rewrite or a rejection.
@Suite(.serialized) struct LayoutRotationFileByFileTests {
    static let environment = ["MWAD_MERGE_WINDOW": "4", "MWAD_MERGE_METHOD": "delta", "MWAD_WATCH_MODE": "poll",
                              "MWAD_WATCH_POLL_INTERVAL": "0.02", "MWAD_WATCH_SETTLE_TIME": "0.05"]

    func expectOnlyDeletions(_ live: LiveRun, _ daemon: DaemonProcess, steps: [Int64]) throws {
        let rows = try #require(live.snapshot()).checkpoints
        #expect(rows.map(\.step) == steps, "\(daemon.log)")
        #expect(rows.allSatisfy { [.ingested, .evicted].contains($0.status) }, "\(rows.map { "\($0.step) \($0.status) \($0.reason ?? "")" })")
        #expect(!daemon.log.contains("written again") && !daemon.log.contains("rejected"), "\(daemon.log)")
        #expect(rows.filter { $0.vanishedAt != nil }.count >= 2, "the rotation deleted folders: \(rows)")
    }

    @Test func diffusersDeleteBeforeSave() throws {
        let live = try LiveRun()
        let daemon = try live.start(environment: Self.environment)
        let writer = try DiffusersWriter(runDirectory: live.run, totalLimit: 2,
                                         deletion: FolderDeletion(first: ["pytorch_lora_weights.safetensors"], pause: 0.05))
        for step in stride(from: 10, through: 80, by: 10) {
            try writer.save(step: step)
            usleep(200_000)
        }
        #expect(live.waitForMerge(through: 80), "\(daemon.log)")
        #expect(daemon.stop() == 0)
        try expectOnlyDeletions(live, daemon, steps: Array(stride(from: 10, through: 80, by: 10)))
    }

    @Test func torchtuneKeepLastN() throws {
        let live = try LiveRun()
        let daemon = try live.start(environment: Self.environment)
        let writer = try TorchtuneWriter(runDirectory: live.run, keepLast: 2,
                                         deletion: FolderDeletion(first: ["adapter_model.safetensors"], pause: 0.05))
        for epoch in 0..<8 {
            try writer.save(epoch: epoch)
            usleep(200_000)
        }
        #expect(live.waitForMerge(through: 80), "\(daemon.log)")
        #expect(daemon.stop() == 0)
        try expectOnlyDeletions(live, daemon, steps: Array(stride(from: 10, through: 80, by: 10)))
    }
}
