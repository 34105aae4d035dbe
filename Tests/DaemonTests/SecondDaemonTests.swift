import Foundation
import Ledger
import MWADTestKit
import Status
import Testing

/// Two daemons on one ledger are impossible: the second exits 1 naming the first, and
/// the first keeps running and is shown as running.
@Suite struct SecondDaemonTests {
    @Test func aSecondDaemonOnTheSameLedgerIsRefused() throws {
        let live = try LiveRun()
        let first = try live.start()
        let second = try DaemonProcess(["--watch", live.run, "--out", live.dir.file("other-out"), "--ledger", live.ledger])
        #expect(DaemonProcess.waitUntil(timeout: 30) { !second.process.isRunning })
        #expect(second.process.terminationStatus == 1)
        #expect(second.log.contains("mwad: error: another mwad (pid \(first.process.processIdentifier)) is using \(live.ledger)"), "\(second.log)")
        let report = try StatusReport.decode(Data(try MWADProcess.run(["status", "--ledger", live.ledger, "--json"]).stdout.utf8))
        #expect(report.daemon.state == .running)
        #expect(report.daemon.pid == first.process.processIdentifier)
        #expect(first.process.isRunning)
        #expect(first.stop() == 0)
        // Once the first has stopped, a new one may take over.
        let third = try live.start()
        #expect(third.log.contains("INFO ready"))
        #expect(third.stop() == 0)
    }

    /// The state directory deleted under a running daemon: its lock file goes with it,
    /// and a second daemon could lock a new one beside it. The first stops (exit 1,
    /// one clear line) instead of writing on; systemd's restart then locks afresh.
    @Test func aDaemonWhoseLockFileIsRemovedStops() throws {
        let live = try LiveRun()
        let first = try live.start(environment: ["MWAD_WATCH_RECONCILE_INTERVAL": "1"])
        try FileManager.default.removeItem(atPath: live.ledger + ".lock")
        #expect(DaemonProcess.waitUntil(timeout: 30) { !first.process.isRunning }, "\(first.log)")
        #expect(first.process.terminationStatus == 1)
        let line = "\(live.ledger).lock was removed or replaced while this mwad held it"
        #expect(first.log.contains("ERROR \(line)"), "\(first.log)")
        #expect(first.log.contains("mwad: error: \(line)"), "\(first.log)")
        let second = try live.start()
        #expect(second.log.contains("INFO ready"))
        #expect(second.stop() == 0)
    }
}
