import Clocks
@testable import Daemon
import Foundation
import HostFileSystem
import Testing

/// The loop's wait ends at its deadline on the daemon's clock, at a signal (one sent
/// while nobody waited is kept), or when the waiting task is cancelled.
@Suite(.timeLimit(.minutes(10))) struct WakeSignalTests {  // a hang fails; a busy machine does not
    let clock = TestClock()
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func aWaitEndsAtItsDeadlineOnTheClock() async {
        let daemonClock = DaemonClock(clock, startingAt: t0)
        let wake = WakeSignal()
        let waiter = Task { await wake.wait(until: t0.addingTimeInterval(10), clock: daemonClock); return daemonClock.now() }
        await clock.advance(by: .milliseconds(9_999))
        await clock.advance(by: .milliseconds(1))
        #expect(await waiter.value == t0.addingTimeInterval(10))
    }

    @Test func aSignalSentBeforeTheWaitIsKept() async {
        let wake = WakeSignal()
        wake.signal()
        await wake.wait(until: t0.addingTimeInterval(3600), clock: DaemonClock(clock, startingAt: t0))
    }

    @Test func aDeadlineAlreadyPastEndsTheWaitAtOnce() async {
        await WakeSignal().wait(until: t0.addingTimeInterval(-1), clock: DaemonClock(clock, startingAt: t0))
    }

    @Test func cancellingTheWaitingTaskEndsTheWait() async {
        let wake = WakeSignal()
        let waiter = Task { await wake.wait(until: t0.addingTimeInterval(3600), clock: DaemonClock(clock, startingAt: t0)) }
        waiter.cancel()
        await waiter.value
    }
}
