import Foundation
@testable import Daemon
import Ledger
import Logging
import MWADTestKit
import Testing

/// The heartbeat's schedule and the status line, on an in-memory ledger and a given clock.
@Suite struct HeartbeatTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    func heartbeat(_ environment: [String: String] = [:]) async throws -> Heartbeat {
        let config = try await ConfigLoader.load(file: nil, environment: [:], flags: [
            "watch.directory": "/data/run", "heartbeat_interval": "30",
        ])
        let ledger = try Ledger.inMemory()
        let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
        return Heartbeat(config: config, ledger: ledger, notifier: SystemdNotifier(environment: environment),
                         reporter: FailureReporter(ledger: ledger, logger: logger))
    }

    /// A wake-up just before the deadline does not put the beat off by a whole interval:
    /// the loop is told to wake at the deadline (heartbeats drifted to ~2x their interval).
    @Test func theNextWakeIsTheDeadlineNotAWholeInterval() async throws {
        let beat = try await heartbeat()
        #expect(beat.beat(now: t0, ready: true, statusLine: { "" }))
        #expect(!beat.beat(now: t0.addingTimeInterval(29.5), ready: true, statusLine: { "" }))
        #expect(beat.secondsUntilDue(now: t0.addingTimeInterval(29.5)) == 0.5)
        #expect(beat.beat(now: t0.addingTimeInterval(30), ready: true, statusLine: { "" }))
        #expect(beat.secondsUntilDue(now: t0.addingTimeInterval(30)) == 30)
    }

    /// With a watchdog (WATCHDOG_USEC 20 s: a ping every 10 s) its deadline comes first.
    @Test func theWatchdogDeadlineComesFirst() async throws {
        let beat = try await heartbeat(["WATCHDOG_USEC": "20000000"])
        beat.beat(now: t0, ready: true, statusLine: { "" })
        #expect(beat.secondsUntilDue(now: t0.addingTimeInterval(4)) == 6)
    }

    /// A persisting problem leads the status line; absence says why; counts agree in number.
    @Test func theStatusLineLeadsWithAProblem() {
        #expect(Heartbeat.statusLine(nil, watching: "/r", absence: nil, problem: "/r: cannot read the run directory: Permission denied")
            == "/r: cannot read the run directory: Permission denied · watching /r; no checkpoint yet")
        #expect(Heartbeat.statusLine(nil, watching: "/r", absence: "waiting for /r to appear", problem: nil) == "waiting for /r to appear")
    }
}
