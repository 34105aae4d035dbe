import Foundation
import Ledger
import MWADTestKit
import Testing

/// Faults around a running daemon: each gives a clear log line, leaves the last good
/// merge published, and heals without a restart once the fault is gone.
@Suite(.serialized) struct FaultTests {
    /// A daemon that merged checkpoints 10 and 20, and the retained copy of 10, deleted.
    func twoCheckpointsWithALostCopy() throws -> (LiveRun, DaemonProcess, TrainerWriter) {
        let live = try LiveRun()
        let daemon = try live.start()
        let writer = TrainerWriter(runDirectory: live.run)
        for step in [10, 20] { try writer.save(step: step) }
        #expect(live.waitForMerge(through: 20))
        let victim = try #require(live.snapshot()?.checkpoints.first { $0.step == 10 }?.retainedPath)
        try FileManager.default.removeItem(atPath: victim)
        return (live, daemon, writer)
    }

    @Test func aRetainedCopyDeletedBehindItsBackIsCopiedAgain() throws {
        let (live, daemon, writer) = try twoCheckpointsWithALostCopy()
        try writer.save(step: 30)
        #expect(live.waitForMerge(through: 30), "\(daemon.log)")
        #expect(daemon.log.contains("retained copy of checkpoint-10 was missing; copied it again"), "\(daemon.log)")
        #expect(live.snapshot()?.members.count == 3)
        #expect(daemon.stop() == 0)
    }

    @Test func aRetainedCopyLostWithItsSourceIsRejected() throws {
        let (live, daemon, writer) = try twoCheckpointsWithALostCopy()
        try FileManager.default.removeItem(atPath: "\(live.run)/checkpoint-10")
        try writer.save(step: 30)
        #expect(live.waitForMerge(through: 30), "\(daemon.log)")
        let row = try #require(live.snapshot()?.checkpoints.first { $0.step == 10 })
        #expect(row.status == .rejected)
        #expect(row.reason?.contains("retained copy was lost") == true)
        #expect(live.snapshot()?.members.count == 2)
        #expect(daemon.stop() == 0)
    }

    /// The output's file system full: the merge fails, the previous one stays published,
    /// and once there is room again the next scan publishes without a restart.
    @Test(.enabled(if: geteuid() == 0, "mounting a small tmpfs needs root; CI runs as root"))
    func aFullOutputFileSystemKeepsThePreviousMergeAndHeals() throws {
        let live = try LiveRun()
        let small = live.dir.file("small")
        try FileManager.default.createDirectory(atPath: small, withIntermediateDirectories: true)
        #expect(try MWADProcess.run(["-t", "tmpfs", "-o", "size=120k", "tmpfs", small], executable: "/bin/mount").status == 0)
        defer { _ = try? MWADProcess.run([small], executable: "/bin/umount") }
        let output = "\(small)/merged"
        let daemon = try DaemonProcess(["--watch", live.run, "--out", output, "--ledger", live.ledger],
                                       environment: ["MWAD_WATCH_RECONCILE_INTERVAL": "1", "XDG_STATE_HOME": live.dir.file("xdg")])
        #expect(daemon.waitForLog("INFO ready"))
        let writer = TrainerWriter(runDirectory: live.run)
        try writer.save(step: 10)
        #expect(live.waitForMerge(through: 10), "\(daemon.log)")
        let before = try Data(contentsOf: URL(fileURLWithPath: "\(output)/adapter_model.safetensors"))
        try writer.save(step: 20)  // a second merge cannot be staged next to the first
        #expect(daemon.waitForLog("merge failed; the previous merge stays published"), "\(daemon.log)")
        #expect(daemon.process.isRunning)
        #expect(try Data(contentsOf: URL(fileURLWithPath: "\(output)/adapter_model.safetensors")) == before)
        #expect(OutputReader.read(output) == .whole)
        #expect(live.snapshot()?.daemon?.lastError?.contains("merge failed") == true)

        #expect(try MWADProcess.run(["-o", "remount,size=1m", small], executable: "/bin/mount").status == 0)
        #expect(live.waitForMerge(through: 20), "\(daemon.log)")
        #expect(OutputReader.read(output) == .whole)
        #expect(daemon.stop() == 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: small) == ["merged"])  // no staging left
        #expect(daemon.log.components(separatedBy: "merge failed").count - 1 == 1, "reported once: \(daemon.log)")
    }
}

/// A file size limit (RLIMIT_FSIZE, as `ulimit -f` or systemd's `LimitFSIZE=` set):
/// a write past it raises SIGXFSZ, which by default kills the process. Then the limit
/// is lifted on the running process.
@Suite(.serialized) struct FileSizeLimitTests {
    @Test func aFileSizeLimitFailsWritesNotTheDaemonAndHealsWhenLifted() throws {
        let live = try LiveRun()
        _ = try Ledger(path: live.ledger)  // created (and closed) beforehand: opening it then writes nothing big
        // 100 kB: the 69 kB fixture adapter can be copied, the merge's 138 kB F64 running sum
        // (forced: at window 5 the daemon would merge afresh) cannot.
        let daemon = try DaemonProcess(["--watch", live.run, "--out", live.output, "--ledger", live.ledger],
                                       environment: LiveRun.linearSettings.merging(["XDG_STATE_HOME": live.dir.file("xdg"), "MWAD_WATCH_RECONCILE_INTERVAL": "1",
                                                     "MWAD_HEARTBEAT_INTERVAL": "1", "MWAD_MERGE_RUNNING_SUM": "always"]) { $1 },
                                       launcher: ["/usr/bin/prlimit", "--fsize=100000:unlimited"])  // soft:hard
        #expect(daemon.waitForLog("INFO ready"), "\(daemon.log)")
        try TrainerWriter(runDirectory: live.run).save(step: 10)
        #expect(daemon.waitForLog("merge failed; nothing is published yet"), "\(daemon.log)")
        #expect(daemon.log.contains("File too large"), "\(daemon.log)")
        #expect(daemon.process.isRunning, "SIGXFSZ must not kill it")
        #expect(!FileManager.default.fileExists(atPath: live.output))

        let pid = "\(daemon.process.processIdentifier)"
        #expect(try MWADProcess.run(["--pid", pid, "--fsize=unlimited:unlimited"], executable: "/usr/bin/prlimit").status == 0)
        #expect(live.waitForMerge(through: 10), "\(daemon.log)")
        #expect(OutputReader.read(live.output) == .whole)
        #expect(live.snapshot()?.checkpoints.map(\.status) == [.ingested])
        #expect(live.snapshot()?.daemon?.pid == daemon.process.processIdentifier)
        #expect(daemon.stop() == 0)
    }

    /// A limit just above what creating the ledger writes: the daemon opens it but
    /// cannot record itself, runs anyway, and records itself at a heartbeat once the
    /// limit is lifted (status would otherwise call a running daemon one that never ran).
    @Test func aLedgerUnwritableAtStartIsWrittenOnceItCanBe() throws {
        let live = try LiveRun()
        let probe = live.dir.file("probe.sqlite")
        let created: Int = try {
            let ledger = try Ledger(path: probe)
            return try withExtendedLifetime(ledger) { try FileManager.default.attributesOfItem(atPath: probe + "-wal")[.size] as! Int }
        }()
        let daemon = try DaemonProcess(["--watch", live.run, "--out", live.output, "--ledger", live.ledger],
                                       environment: ["XDG_STATE_HOME": live.dir.file("xdg"), "MWAD_HEARTBEAT_INTERVAL": "1"],
                                       launcher: ["/usr/bin/prlimit", "--fsize=\(created + 1024):unlimited"])
        #expect(daemon.waitForLog("INFO ready"), "\(daemon.log)")
        #expect(daemon.log.contains("cannot record the daemon's start: \(live.ledger): disk I/O error"), "\(daemon.log)")
        #expect(live.snapshot()?.daemon == nil)

        let pid = "\(daemon.process.processIdentifier)"
        #expect(try MWADProcess.run(["--pid", pid, "--fsize=unlimited:unlimited"], executable: "/usr/bin/prlimit").status == 0)
        let recorded = DaemonProcess.waitUntil(timeout: 30) { live.snapshot()?.daemon?.pid == daemon.process.processIdentifier }
        #expect(recorded, "\(daemon.log)")
        #expect(live.snapshot()?.run?.watchPath == live.run)
        #expect(daemon.stop() == 0)
    }
}

/// Another writer holding the ledger longer than the busy timeout.
@Suite(.serialized) struct LedgerLockTests {
    /// Another process holding an exclusive transaction on `ledger` for 13 s (the
    /// daemon waits 10); returns once it holds it.
    static func lock(_ ledger: String) throws -> Process {
        let locker = Process()
        locker.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        locker.arguments = ["python3", "-c", """
            import sqlite3, time
            db = sqlite3.connect(\"\(ledger)\", isolation_level=None)
            db.execute("BEGIN EXCLUSIVE")
            print("locked", flush=True)
            time.sleep(13)
            db.execute("COMMIT")
            """]
        let pipe = Pipe()
        locker.standardOutput = pipe
        try locker.run()
        _ = pipe.fileHandleForReading.availableData  // "locked"
        return locker
    }

    @Test func aLedgerLockedPastTheBusyTimeoutDelaysTheRecordThenHeals() throws {
        let live = try LiveRun()
        let daemon = try live.start(environment: ["MWAD_WATCH_RECONCILE_INTERVAL": "1"])
        let writer = TrainerWriter(runDirectory: live.run)
        try writer.save(step: 10)
        #expect(live.waitForMerge(through: 10))
        let before = try Data(contentsOf: URL(fileURLWithPath: "\(live.output)/adapter_model.safetensors"))

        let locker = try Self.lock(live.ledger)
        try writer.save(step: 20)
        #expect(daemon.waitForLog("database is locked", timeout: 30), "\(daemon.log)")
        #expect(daemon.process.isRunning)
        #expect(try Data(contentsOf: URL(fileURLWithPath: "\(live.output)/adapter_model.safetensors")) == before)
        locker.waitUntilExit()
        #expect(live.waitForMerge(through: 20), "\(daemon.log)")
        #expect(daemon.stop() == 0)
        let rows = try #require(live.snapshot()).checkpoints
        #expect(rows.map(\.step) == [10, 20])  // recorded once, after the lock
    }
}
