import Foundation
import Ledger
import MWADTestKit
import Testing

/// mwad lives and dies with its training: `--until-pid` ends the daemon once the
/// trainer is gone, after the merge of what it saved last; SIGUSR1 makes it look at
/// the run at once where it would otherwise wait for its poll; SIGUSR2 says training
/// finished.
@Suite(.serialized) struct UntilPIDTests {
    /// The trainer SIGKILLed mid-run, a merge pending (a long debounce) and a
    /// checkpoint half-written: the daemon publishes the merge of the last complete
    /// checkpoint and exits 0 within seconds; status says why it stopped.
    @Test func aKilledTrainerEndsTheDaemonAfterItsFinalMerge() throws {
        let live = try LiveRun()
        let trainer = try Self.trainer(seconds: 600)
        let daemon = try live.start(["--until-pid", "\(trainer.processIdentifier)"], environment: ["MWAD_WATCH_DEBOUNCE": "600"])
        #expect(daemon.log.contains("following the trainer, pid \(trainer.processIdentifier)"), "\(daemon.log)")
        let writer = TrainerWriter(runDirectory: live.run)
        for step in [10, 20, 30] { try writer.save(step: step) }
        #expect(DaemonProcess.waitUntil(timeout: 30) { live.snapshot()?.ingested.count == 3 }, "\(daemon.log)")
        try live.moveIn(step: 40) { try FileManager.default.removeItem(atPath: "\($0)/trainer_state.json") }  // killed mid-save
        // The burst's merge waits out its debounce: none has been published yet.
        #expect(live.snapshot()?.merge == nil)
        kill(trainer.processIdentifier, SIGKILL)  // a zombie until reaped: mwad must see it as gone
        #expect(DaemonProcess.waitUntil(timeout: 10) { !daemon.process.isRunning }, "the daemon outlived its trainer: \(daemon.log)")
        #expect(daemon.process.terminationReason == .exit && daemon.process.terminationStatus == 0, "\(daemon.log)")
        trainer.waitUntilExit()
        let snapshot = try #require(live.snapshot())
        #expect(snapshot.members.compactMap { snapshot.checkpoint(id: $0.checkpointID)?.step } == [10, 20, 30], "\(daemon.log)")
        #expect(daemon.log.contains("the trainer, pid \(trainer.processIdentifier), exited: the final merge and its evaluation, then mwad stops"))
        #expect(daemon.log.contains("stopped: the trainer, pid \(trainer.processIdentifier), exited"))
        let status = try MWADProcess.run(["status", "--ledger", live.ledger])
        #expect(status.stdout.contains("stopped · pid") && status.stdout.contains(": the trainer, pid \(trainer.processIdentifier), exited"), "\(status.stdout)")
    }

    /// A trainer that ends normally (its process exits): the same, exit 0.
    @Test func aTrainerThatExitsEndsTheDaemon() throws {
        let live = try LiveRun()
        let trainer = try Self.trainer(seconds: 1)
        let daemon = try live.start(["--until-pid", "\(trainer.processIdentifier)"])
        try TrainerWriter(runDirectory: live.run).save(step: 10)
        trainer.waitUntilExit()
        #expect(DaemonProcess.waitUntil(timeout: 10) { !daemon.process.isRunning }, "\(daemon.log)")
        #expect(daemon.process.terminationStatus == 0)
        #expect(live.snapshot()?.merge != nil, "\(daemon.log)")
    }

    /// Training finished while its process lives on (the callback's `on_train_end`):
    /// SIGUSR2 makes the pending merge at once (a long debounce notwithstanding) and
    /// ends the daemon with exit 0, the reason in its log and status.
    @Test func sigusr2FinishesWithTheFinalMerge() throws {
        let live = try LiveRun()
        let daemon = try live.start(environment: ["MWAD_WATCH_DEBOUNCE": "600"])
        let writer = TrainerWriter(runDirectory: live.run)
        for step in [10, 20] { try writer.save(step: step) }
        #expect(DaemonProcess.waitUntil(timeout: 30) { live.snapshot()?.ingested.count == 2 }, "\(daemon.log)")
        #expect(live.snapshot()?.merge == nil)
        kill(daemon.process.processIdentifier, SIGUSR2)
        #expect(DaemonProcess.waitUntil(timeout: 10) { !daemon.process.isRunning }, "\(daemon.log)")
        #expect(daemon.process.terminationReason == .exit && daemon.process.terminationStatus == 0, "\(daemon.log)")
        let snapshot = try #require(live.snapshot())
        #expect(snapshot.members.compactMap { snapshot.checkpoint(id: $0.checkpointID)?.step } == [10, 20], "\(daemon.log)")
        #expect(daemon.log.contains("stopped: training finished (SIGUSR2)"), "\(daemon.log)")
    }

    /// The trainer's callback reads the daemon's log through a pipe; SIGKILLed, it
    /// closes that pipe. The daemon's next lines meet EPIPE: it drops them, makes its
    /// final merge and exits 0 (it trapped in FileHandle's write before).
    @Test func aLogReaderThatIsGoneCostsLinesNotTheDaemon() throws {
        let live = try LiveRun()
        let trainer = try Self.trainer(seconds: 600)
        let daemon = Process()
        daemon.executableURL = URL(fileURLWithPath: MWADProcess.executable)
        daemon.arguments = ["run", "--watch", live.run, "--out", live.output, "--ledger", live.ledger,
                            "--until-pid", "\(trainer.processIdentifier)"]
        daemon.environment = MWADProcess.isolated(LiveRun.linearSettings.merging(["MWAD_WATCH_DEBOUNCE": "600"]) { $1 })
        let log = Pipe()
        daemon.standardError = log
        try daemon.run()
        #expect(DaemonProcess.waitUntil(timeout: 30) { live.snapshot()?.daemon?.pid == daemon.processIdentifier })
        try log.fileHandleForReading.close()
        try log.fileHandleForWriting.close()
        let writer = TrainerWriter(runDirectory: live.run)
        for step in [10, 20] { try writer.save(step: step) }  // each logged: EPIPE
        #expect(DaemonProcess.waitUntil(timeout: 30) { live.snapshot()?.ingested.count == 2 })
        #expect(daemon.isRunning, "the daemon died writing its log to a closed pipe")
        kill(trainer.processIdentifier, SIGKILL)
        #expect(DaemonProcess.waitUntil(timeout: 10) { !daemon.isRunning })
        #expect(daemon.terminationReason == .exit && daemon.terminationStatus == 0)
        trainer.waitUntilExit()
        let snapshot = try #require(live.snapshot())
        #expect(snapshot.members.compactMap { snapshot.checkpoint(id: $0.checkpointID)?.step } == [10, 20])
    }

    /// A stand-in trainer process that lives `seconds`.
    static func trainer(seconds: Int) throws -> Process {
        let trainer = Process()
        trainer.executableURL = URL(fileURLWithPath: "/bin/sleep")
        trainer.arguments = ["\(seconds)"]
        try trainer.run()
        return trainer
    }

    /// On a run mwad polls once a minute, SIGUSR1 brings a new checkpoint in at once.
    @Test func sigusr1LooksAtTheRunNow() throws {
        let live = try LiveRun()
        let daemon = try live.start(environment: ["MWAD_WATCH_MODE": "poll", "MWAD_WATCH_POLL_INTERVAL": "60"])
        try TrainerWriter(runDirectory: live.run).save(step: 10)
        usleep(1_500_000)
        #expect(live.snapshot()?.checkpoints.isEmpty == true, "polled before the signal: the test proves nothing")
        kill(daemon.process.processIdentifier, SIGUSR1)
        #expect(DaemonProcess.waitUntil(timeout: 5) { live.snapshot()?.ingested.count == 1 }, "\(daemon.log)")
        #expect(daemon.process.isRunning, "SIGUSR1 must not kill it")
        #expect(daemon.stop() == 0)
    }
}
