import Daemon
import Foundation
import Ledger
import MWADTestKit
import Testing

/// The daemon's loop in process, on virtual time (``VirtualDaemon``): the merge
/// schedule, the heartbeat and the hook's timeout run on the clock the test moves, so
/// no test here sleeps for time to pass, and each can say at what time a thing happened.
@Suite struct DaemonLoopTests {
    let dir = TemporaryDirectory("mwad-loop")

    func daemon(run: String, _ flags: [String: String] = [:]) async throws -> VirtualDaemon {
        try await VirtualDaemon([
            "watch.directory": run, "output": dir.file("merged"), "state_directory": dir.file("state"),
            "ledger": dir.file("state/ledger.sqlite"), "watch.debounce": "0.2", "merge.window": "3",
        ].merging(flags) { $1 })
    }

    @Test func followsARunDirectoryThatAppearsAfterTheStart() async throws {
        let run = dir.file("later/run")
        let daemon = try await daemon(run: run)
        #expect(await daemon.start())
        // Two levels below an existing folder: the loop follows the creation down.
        try FileManager.default.createDirectory(atPath: run, withIntermediateDirectories: true)
        let writer = TrainerWriter(runDirectory: run, saveTotalLimit: 1)
        for step in stride(from: 10, through: 50, by: 10) {
            try writer.save(step: step)
            // The rotation deletes it at the next save: read before that, as a trainer's
            // callback makes sure of (MwadCallback's ingest_timeout).
            #expect(await daemon.settle { daemon.snapshot?.checkpoints.last?.step == Int64(step) })
        }
        await daemon.advance(0.2)
        #expect(await daemon.settle { daemon.snapshot?.merge != nil }, "\(daemon.log.all.joined(separator: "\n"))")
        await daemon.stop()
        let snapshot = try daemon.ledger.snapshot()
        #expect(snapshot.checkpoints.map(\.step) == [10, 20, 30, 40, 50])
        #expect(snapshot.checkpoints.allSatisfy { $0.status == .ingested || $0.status == .evicted }, "\(snapshot.checkpoints)")
        #expect(snapshot.members.compactMap { snapshot.checkpoint(id: $0.checkpointID)?.step } == [30, 40, 50])
        #expect(snapshot.daemon?.stoppedAt != nil)
    }

    /// Checkpoints saved in a burst are ingested at once and merged once, `debounce`
    /// seconds after the last of them: not a moment before, at exactly that time.
    @Test func aBurstIsMergedOnceWhenItHasBeenQuietForTheDebounce() async throws {
        let run = dir.file("run")
        try FileManager.default.createDirectory(atPath: run, withIntermediateDirectories: true)
        let daemon = try await daemon(run: run, ["watch.debounce": "5"])
        #expect(await daemon.start())
        let writer = TrainerWriter(runDirectory: run)
        for step in [10, 20, 30] { try writer.save(step: step) }
        #expect(await daemon.settle { daemon.snapshot?.ingested.count == 3 })
        await daemon.advance(4.9)
        #expect(await daemon.stays { daemon.snapshot?.merge == nil }, "merged before the burst had been quiet for 5 s")
        await daemon.advance(0.1)
        #expect(await daemon.settle { daemon.snapshot?.merge != nil })
        let snapshot = try #require(daemon.snapshot)
        #expect(snapshot.members.count == 3)
        let merged = try #require(snapshot.merge?.createdAt)
        #expect(abs(merged.timeIntervalSince(daemon.origin) - 5) < 0.01, "merged at \(merged), 5 s after \(daemon.origin) expected")
        await daemon.stop()
        #expect(try daemon.ledger.snapshot().merge?.id == 1, "one merge for the burst")
    }

    /// The heartbeat is written every `heartbeat_interval` seconds of the daemon's clock:
    /// at the start, then at 30 s, not at 29, then at 60.
    @Test func theHeartbeatFollowsTheClock() async throws {
        let run = dir.file("run")
        try FileManager.default.createDirectory(atPath: run, withIntermediateDirectories: true)
        let daemon = try await daemon(run: run, ["heartbeat_interval": "30", "watch.reconcile_interval": "600"])
        #expect(await daemon.start())
        let origin = daemon.origin
        @Sendable func beat() -> Double? { daemon.snapshot?.daemon.map { $0.heartbeatAt.timeIntervalSince(origin) } }
        #expect(beat().map { abs($0) < 0.01 } == true, "\(String(describing: beat()))")
        await daemon.advance(30)
        #expect(await daemon.settle { beat().map { abs($0 - 30) < 0.01 } == true }, "\(String(describing: beat()))")
        await daemon.advance(29)
        #expect(await daemon.stays { beat().map { abs($0 - 30) < 0.01 } == true }, "\(String(describing: beat()))")
        await daemon.advance(1)
        #expect(await daemon.settle { beat().map { abs($0 - 60) < 0.01 } == true }, "\(String(describing: beat()))")
        await daemon.stop()
    }

    /// A hook that never ends is stopped at `hook.timeout` on the daemon's clock: a real
    /// process, still running at 59 virtual seconds, timed out at 60.
    @Test func aHookIsTimedOutOnTheDaemonsClock() async throws {
        let run = dir.file("run")
        try FileManager.default.createDirectory(atPath: run, withIntermediateDirectories: true)
        try TrainerWriter(runDirectory: run).save(step: 10)
        let hook = dir.file("hook.sh"), started = dir.file("hook.started")
        try "#!/bin/sh\ntouch '\(started)'\nexec sleep 1000\n".write(toFile: hook, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: hook)
        let daemon = try await daemon(run: run, ["hook.on_merge": hook, "hook.timeout": "60"])
        #expect(await daemon.start())  // the files were there at the start: merged at once
        #expect(await daemon.settle { FileManager.default.fileExists(atPath: started) })
        await daemon.advance(59)
        #expect(await daemon.stays { daemon.snapshot?.merge?.hookStatus == nil }, "the hook ended before its timeout")
        await daemon.advance(1)
        #expect(await daemon.settle { daemon.snapshot?.merge?.hookStatus != nil })
        #expect(daemon.snapshot?.merge?.hookStatus == "timed out after 60 s")
        await daemon.stop()
    }
}
