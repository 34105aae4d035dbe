import Foundation
import HostFileSystem
import Ingest
import Ledger
import Logging
import Publish

/// The daemon's signs of life: the heartbeat row in the ledger (and, until it could be
/// written, the record of the daemon's start), the `STATUS=` line and `WATCHDOG=1`
/// for systemd.
final class Heartbeat {
    private let config: DaemonConfig
    private let ledger: Ledger
    private let notifier: SystemdNotifier
    private let reporter: FailureReporter
    private var lastBeat = Date.distantPast
    private var lastWatchdog = Date.distantPast
    private var lastStatus = ""
    private var startRecorded = false

    init(config: DaemonConfig, ledger: Ledger, notifier: SystemdNotifier, reporter: FailureReporter) {
        self.config = config
        self.ledger = ledger
        self.notifier = notifier
        self.reporter = reporter
    }

    /// Records the run and this daemon in the ledger; tried again at each beat until it
    /// succeeds (the ledger may be unwritable at start), so that status does not
    /// report a running daemon as one that never ran.
    func recordStart(now: Date) {
        do {
            try ledger.registerRun(watch: config.watchDirectory, output: config.output, settings: config.merge,
                                   evaluation: ChangeNotice.evaluation(config.evaluation), now: now)
            try ledger.daemonStarted(DaemonRecord(pid: getpid(), host: ProcessInfo.processInfo.hostName, version: MWADVersion.current,
                                                  startedAt: now, heartbeatAt: now, heartbeatInterval: config.heartbeatInterval))
            startRecorded = true
        } catch {
            reporter.report("cannot record the daemon's start", error)
        }
    }

    /// Beats if it is time (returns whether it did); sends the status line when it
    /// changed (once ready).
    @discardableResult
    func beat(now: Date, ready: Bool, statusLine: () -> String) -> Bool {
        var beat = false
        // To the clock's resolution: woken at the deadline, it beats.
        if now.timeIntervalSince(lastBeat) >= config.heartbeatInterval - DaemonClock.resolution {
            if startRecorded { try? ledger.heartbeat(at: now) } else { recordStart(now: now) }
            lastBeat = now
            beat = true
        }
        guard ready else { return beat }
        let line = statusLine()
        if line != lastStatus {
            notifier.send("STATUS=\(line)")
            lastStatus = line
        }
        if let interval = notifier.watchdogInterval, now.timeIntervalSince(lastWatchdog) >= interval * 0.9 - DaemonClock.resolution {
            notifier.send("WATCHDOG=1")
            lastWatchdog = now
        }
        return beat
    }

    /// Seconds until the next heartbeat or watchdog ping is due. The loop sleeps no
    /// longer: were it to sleep a whole interval from any wake-up, one just before a
    /// deadline would put the beat off by an interval (heartbeats drifted to ~2x).
    func secondsUntilDue(now: Date) -> Double {
        var due = lastBeat.addingTimeInterval(config.heartbeatInterval).timeIntervalSince(now)
        if let interval = notifier.watchdogInterval {
            due = min(due, lastWatchdog.addingTimeInterval(interval).timeIntervalSince(now))
        }
        return max(0, due)
    }

    /// One line for `systemctl status`: what persists failing, if anything, then the
    /// last step, members, last merge (or why the run directory is not there).
    static func statusLine(_ snapshot: LedgerSnapshot?, watching directory: String, absence: String?, problem: String?) -> String {
        let base = statusLine(snapshot, watching: directory, absence: absence)
        return problem.map { "\($0) · \(base)" } ?? base
    }

    private static func statusLine(_ snapshot: LedgerSnapshot?, watching directory: String, absence: String?) -> String {
        if let absence { return absence }
        let rows = snapshot?.ingested ?? []
        guard let snapshot, let merge = snapshot.merge else {
            return rows.isEmpty ? "watching \(directory); no checkpoint yet"
                : "\(rows.count) checkpoint\(rows.count == 1 ? "" : "s"); no merge yet"
        }
        let last = rows.last.map { "step \($0.step)" } ?? "no step"
        let members = snapshot.members.count
        return "\(last) · \(members) member\(members == 1 ? "" : "s") in merge #\(merge.id!) · published \(clock(merge.createdAt))"
    }

    /// `HH:mm:ssZ`, UTC.
    static func clock(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "HH:mm:ss'Z'"
        return formatter.string(from: date)
    }
}
