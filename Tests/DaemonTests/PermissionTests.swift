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
        // A file unreadable for settle_time is a problem (one only just written is waited on quietly).
        let daemon = try live.start(environment: ["MWAD_WATCH_RECONCILE_INTERVAL": "1", "MWAD_WATCH_SETTLE_TIME": "1"], unprivileged: true)
        let writer = TrainerWriter(runDirectory: live.run)
        try writer.save(step: 10)
        #expect(live.waitForMerge(through: 10), "\(daemon.log)")
        return (live, daemon, writer)
    }

    /// A file mwad may not read is a permission to fix, not a broken checkpoint: it is
    /// waited on (not rejected), the problem shows in status (and STATUS=) naming the
    /// file and the user, logged once, and clears as soon as the file is readable.
    @Test func unreadableFilesAreAProblemUntilReadableThenIngested() throws {
        let (live, daemon, _) = try unprivilegedDaemonWithOneMerge()
        let published = try FileDigest.sha256(ofFile: "\(live.output)/adapter_model.safetensors")

        let locked = [(20, "adapter_model.safetensors"), (30, "trainer_state.json")]
        for (step, file) in locked {
            try live.moveIn(step: step) { folder in chmod("\(folder)/\(file)", 0) }
        }
        var problem: String?
        DaemonProcess.waitUntil(timeout: 30) {
            problem = live.snapshot()?.daemon?.problem
            return problem?.contains("checkpoint-30") == true
        }
        #expect(problem == "cannot read checkpoints: checkpoint-20: adapter_model.safetensors is not readable by user nobody "
            + "(Permission denied); make the run readable to it (group or mode); checkpoint-30: trainer_state.json is not "
            + "readable by user nobody (Permission denied); make the run readable to it (group or mode)", "\(daemon.log)")
        #expect(live.snapshot()?.checkpoints.map(\.step) == [10], "waited on, not rejected")
        let status = try MWADProcess.run(["status", "--ledger", live.ledger])
        #expect(status.stdout.contains("problem     cannot read checkpoints: checkpoint-20: adapter_model.safetensors is not readable"),
                "\(status.stdout)")
        #expect(daemon.process.isRunning)
        #expect(try FileDigest.sha256(ofFile: "\(live.output)/adapter_model.safetensors") == published)
        #expect(!daemon.log.contains("WARNING rejected"), "\(daemon.log)")

        for (step, file) in locked { chmod("\(live.run)/checkpoint-\(step)/\(file)", 0o644) }
        #expect(live.waitForMerge(through: 30), "\(daemon.log)")
        let snapshot = try #require(live.snapshot())
        #expect(snapshot.checkpoints.map(\.step) == [10, 20, 30])
        #expect(snapshot.checkpoints.allSatisfy { $0.status == .ingested && $0.reason == nil })
        #expect(snapshot.daemon?.problem == nil && snapshot.daemon?.problemSince == nil, "cleared once readable")
        #expect(!(try MWADProcess.run(["status", "--ledger", live.ledger]).stdout.contains("problem")))
        #expect(daemon.stop() == 0)
    }

    /// A run directory another user made mode 0700: the listing's failure is the
    /// problem shown, until the mode is fixed.
    @Test(.enabled(if: geteuid() == 0, "needs another user's folder: root's, read by nobody"))
    func anUnlistableRunDirectoryIsAProblemUntilFixed() throws {
        let (live, daemon, writer) = try unprivilegedDaemonWithOneMerge()
        #expect(try MWADProcess.run(["0:0", live.run], executable: "/bin/chown").status == 0)
        chmod(live.run, 0o700)
        var problem: String?
        DaemonProcess.waitUntil(timeout: 30) {
            problem = live.snapshot()?.daemon?.problem
            return problem != nil
        }
        #expect(problem == "\(live.run): cannot read the run directory: Permission denied", "\(daemon.log)")
        chmod(live.run, 0o755)
        try writer.save(step: 20)
        #expect(live.waitForMerge(through: 20), "\(daemon.log)")
        #expect(live.snapshot()?.daemon?.problem == nil)
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
        // The log line is written before the ledger's row: wait for the row.
        #expect(DaemonProcess.waitUntil(timeout: 10) { live.snapshot()?.daemon?.lastError?.contains("merge failed") == true })

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
