import Foundation

/// The daemon's time: what time it is (for the ledger, the merge schedule, the
/// heartbeat and settle times) and how to wait for a moment (the loop's timeouts, a
/// child's timeout and its kill grace).
///
/// Both come from one clock, so a test can pass a manual clock and move time forward
/// by hand: a debounce, a heartbeat interval or a hook's timeout then passes at once,
/// without a sleep. Waits are until a time, not for a duration: a wait set up a moment
/// after its deadline was computed still ends at that deadline.
public struct DaemonClock: Sendable {
    /// How finely the daemon tells times apart: a thing due within this of now is due.
    /// A date carries about 1e-7 s of rounding, which must not leave the loop, woken at
    /// a deadline, a hair short of it (it would then wait for that hair, forever on a
    /// clock a test moves by hand).
    public static let resolution = 0.001

    /// The current time.
    public let now: @Sendable () -> Date
    private let waitUntil: @Sendable (Date) async throws -> Void

    /// The system's: the wall clock for the time, the monotonic clock for waits.
    public static let system = DaemonClock(now: { Date() }, waitUntil: { deadline in
        try await ContinuousClock().sleep(for: .seconds(max(0, deadline.timeIntervalSinceNow)))
    })

    /// `clock`'s time, as a date: `origin` at the moment of this call. A deadline is
    /// taken to the microsecond: a date's rounding (about 1e-7 s) must not put a wait
    /// for `now + 0.2` a hair past the moment a test moved the clock 0.2 s on.
    public init<C: Clock>(_ clock: C, startingAt origin: Date) where C.Duration == Duration {
        let start = clock.now
        self.init(now: { origin.addingTimeInterval(start.duration(to: clock.now).seconds) },
                  waitUntil: { deadline in
                      let instant = start.advanced(by: .microseconds(Int64((deadline.timeIntervalSince(origin) * 1e6).rounded())))
                      guard instant > clock.now else { return try Task.checkCancellation() }  // passed: no wait
                      try await clock.sleep(until: instant, tolerance: nil)
                  })
    }

    private init(now: @escaping @Sendable () -> Date, waitUntil: @escaping @Sendable (Date) async throws -> Void) {
        self.now = now
        self.waitUntil = waitUntil
    }

    /// Returns at `deadline` on this clock (at once if it has passed); throws
    /// `CancellationError` if the task is cancelled first.
    public func sleep(until deadline: Date) async throws {
        try await waitUntil(deadline)
    }

    /// Returns `seconds` from now on this clock.
    public func sleep(seconds: Double) async throws {
        try await waitUntil(now().addingTimeInterval(seconds))
    }
}

extension Duration {
    /// The duration in seconds, as a `Double`.
    public var seconds: Double {
        let (whole, fraction) = components
        return Double(whole) + Double(fraction) / 1e18
    }
}
