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
}
