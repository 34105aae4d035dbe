import Foundation
import HostFileSystem

/// When the merge may run. Ingest happens at once, at every wake-up; the merge waits
/// until a burst of changes has been quiet for `debounce` seconds — so several
/// checkpoints at once, or a start-up, give one merge — but never longer than
/// `maxDelay` after the burst began, so a steady stream still gets merged.
struct MergeSchedule: Equatable {
    let debounce: Double
    var maxDelay: Double { max(5, 10 * debounce) }
    private(set) var burstStart: Date?
    private(set) var lastActivity: Date?

    init(debounce: Double) { self.debounce = debounce }

    /// Something changed at `now` (a checkpoint recorded, an event seen).
    mutating func activity(at now: Date) {
        if burstStart == nil { burstStart = now }
        lastActivity = now
    }

    /// Seconds until the merge is due (0: now).
    func secondsUntilDue(at now: Date) -> Double {
        guard let burstStart, let lastActivity else { return 0 }
        let quiet = lastActivity.addingTimeInterval(debounce).timeIntervalSince(now)
        let latest = burstStart.addingTimeInterval(maxDelay).timeIntervalSince(now)
        return max(0, min(quiet, latest))
    }

    /// Due, to the clock's resolution (``DaemonClock/resolution``).
    func isDue(at now: Date) -> Bool { secondsUntilDue(at: now) < DaemonClock.resolution }

    /// The merge ran: the burst is over.
    mutating func merged() {
        burstStart = nil
        lastActivity = nil
    }
}
