import Foundation
import Ingest
import Ledger
import MWADTestKit
import Testing

/// Files the daemon may not read and an output it may not write: the daemon runs
/// unprivileged (as `nobody` when the tests run as root, since root ignores file
/// modes), says what it could not do, keeps the last merge, and carries on once the
/// permissions are fixed, without a restart.
@Suite(.serialized) struct PermissionTests {
    func chmod(_ path: String, _ mode: mode_t) {
        #expect(Foundation.chmod(path, mode) == 0, "chmod \(path)")
    }

    /// An unprivileged daemon that has merged checkpoint-10.
    func unprivilegedDaemonWithOneMerge() throws -> (LiveRun, DaemonProcess, TrainerWriter) {
        let live = try LiveRun()
        let daemon = try live.start(environment: ["MWAD_WATCH_RECONCILE_INTERVAL": "1"], unprivileged: true)
        let writer = TrainerWriter(runDirectory: live.run)
        try writer.save(step: 10)
        #expect(live.waitForMerge(through: 10), "\(daemon.log)")
        return (live, daemon, writer)
    }

    @Test func unreadableFilesAreRejectedThenIngestedOnceReadable() throws {
        let (live, daemon, _) = try unprivilegedDaemonWithOneMerge()
        let published = try FileDigest.sha256(ofFile: "\(live.output)/adapter_model.safetensors")

        let locked = [(20, "adapter_model.safetensors"), (30, "trainer_state.json")]
        for (step, file) in locked {
            try live.moveIn(step: step) { folder in chmod("\(folder)/\(file)", 0) }
            let row = waitForRow(live, step: step)
            #expect(row?.status == .rejected)
            #expect(row?.reason == "cannot copy: \(live.run)/checkpoint-\(step)/\(file): Permission denied", "\(String(describing: row))")
        }
        #expect(daemon.process.isRunning)
        #expect(try FileDigest.sha256(ofFile: "\(live.output)/adapter_model.safetensors") == published)
        #expect(daemon.log.components(separatedBy: "WARNING rejected").count - 1 == 2, "each logged once: \(daemon.log)")

        for (step, file) in locked { chmod("\(live.run)/checkpoint-\(step)/\(file)", 0o644) }
        #expect(live.waitForMerge(through: 30), "\(daemon.log)")
        let rows = try #require(live.snapshot()).checkpoints
        #expect(rows.map(\.step) == [10, 20, 30], "revived in place, not added again")
        #expect(rows.allSatisfy { $0.status == .ingested && $0.reason == nil })
        #expect(daemon.stop() == 0)
    }

    /// The output's folder (where the new merge is staged) not writable: the merge
    /// fails and heals. The output folder itself read-only: it is still replaced, and
    /// the old one is still removed.
    @Test func anOutputLocationNotWritableKeepsThePreviousMergeAndHeals() throws {
        let (live, daemon, writer) = try unprivilegedDaemonWithOneMerge()
        let before = try Data(contentsOf: URL(fileURLWithPath: "\(live.output)/adapter_model.safetensors"))

        chmod(live.dir.path, 0o555)
        try writer.save(step: 20)
        #expect(daemon.waitForLog("merge failed; the previous merge stays published"), "\(daemon.log)")
        #expect(daemon.log.contains("\(live.dir.path): creating a staging folder failed: Permission denied"), "\(daemon.log)")
        #expect(daemon.process.isRunning)
        #expect(try Data(contentsOf: URL(fileURLWithPath: "\(live.output)/adapter_model.safetensors")) == before)
        #expect(OutputReader.read(live.output) == .whole)
        #expect(live.snapshot()?.daemon?.lastError?.contains("merge failed") == true)

        chmod(live.dir.path, 0o755)
        #expect(live.waitForMerge(through: 20), "\(daemon.log)")
        #expect(OutputReader.read(live.output) == .whole)

        chmod(live.output, 0o555)
        try writer.save(step: 30)
        #expect(live.waitForMerge(through: 30), "\(daemon.log)")
        #expect(daemon.stop() == 0)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: live.dir.path).filter { $0.hasPrefix(".") }
        #expect(leftovers.isEmpty, "staging left: \(leftovers)")
    }

    func waitForRow(_ live: LiveRun, step: Int) -> CheckpointRecord? {
        var row: CheckpointRecord?
        DaemonProcess.waitUntil(timeout: 30) {
            row = live.snapshot()?.checkpoints.first { $0.step == Int64(step) }
            return row != nil
        }
        return row
    }
}
