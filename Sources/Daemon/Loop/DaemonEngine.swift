import Foundation
import HostFileSystem
import Ingest
import Ledger
import Publish
import Logging
import Merge
import Synchronization
import Watch

/// The daemon: watches the run directory, ingests each new checkpoint, keeps the
/// rolling merge published, and reports its health to the ledger and to systemd.
///
/// This type is the thread-safe handle (start, stop); the loop itself and all its
/// state live in ``DaemonLoop``, on the one task that runs it.
public final class DaemonEngine: Sendable {
    public let config: DaemonConfig
    let ledger: Ledger
    let logger: Logger
    let notifier: SystemdNotifier
    let layout: any TrainerLayout
    /// How merges, the best adapter and kept checkpoints are published (`publish`).
    let publication: any PublicationTarget
    /// Loads adapters into the serving engine (`serve.url`); nil without one.
    let serving: ServingPublisher?
    /// The time, and the waits of the loop, the hook and the evaluator: injected, so
    /// tests move time by hand.
    let clock: DaemonClock
    let wake = WakeSignal()
    /// The ledger's writer lock, checked at every step (nil in tests that take none).
    let lock: LedgerLock?
    private let stopping = Atomic<Bool>(false)
    private let lockLost = Atomic<Bool>(false)
    /// Set when the daemon's end is the plan: the trainer it follows (`--until-pid`) is
    /// gone, or it was told training finished (SIGUSR2).
    private let plannedStop = Mutex<String?>(nil)

    public init(config: DaemonConfig, ledger: Ledger, lock: LedgerLock? = nil, logger: Logger, notifier: SystemdNotifier,
                clock: DaemonClock = .system) {
        self.config = config
        self.ledger = ledger
        self.lock = lock
        self.logger = logger
        self.notifier = notifier
        layout = config.makeLayout()
        let published = config.makePublication(layout)
        if let serve = config.serve {
            let server = ServingPublisher(settings: serve, ledger: ledger, logger: logger)
            serving = server
            publication = ServingPublication(inner: published, layout: layout, server: server, settings: serve,
                                             servesBest: serve.publishesBest(evaluating: config.evaluation != nil))
        } else {
            serving = nil
            publication = published
        }
        self.clock = clock
    }

    /// How changes are noticed, and why.
    public var watchStrategy: (polling: Bool, reason: String) {
        switch config.watchMode {
        case .poll: return (true, "watch.mode is poll")
        case .inotify: return (false, "watch.mode is inotify")
        case .auto:
            let kind = FileSystemKind.of(ParentWatcher.nearestExistingAncestor(of: config.watchDirectory + "/."))
            return kind.isLocal ? (false, "local file system") : (true, "\(kind) file system: inotify cannot see other clients' writes")
        }
    }

    /// Asks the loop to look at the run now (SIGUSR1). Safe from any thread.
    public func wakeNow() { wake.signal() }

    /// Asks the loop to finish its current step and return. Safe from any task.
    public func requestStop() {
        stopping.store(true, ordering: .relaxed)
        wake.signal()
    }

    var isStopping: Bool { stopping.load(ordering: .relaxed) }

    /// Follows process `pid`: once it is gone the loop makes its final merge and
    /// evaluation and returns (``requestStop()``), recording why.
    public func stop(whenGone pid: Int32) {
        let watch = TrainerWatch(pid: pid)
        logger.info("following the trainer, pid \(pid): mwad stops after its final merge once that process is gone")
        watch.start { [self] in
            finish(because: "the trainer, pid \(pid), exited")
        }
    }

    /// Training is over (SIGUSR2 from the trainer's callback, or the followed process
    /// gone): the loop looks at the run once more, makes the final merge and its
    /// evaluation, then returns. The first reason given is the one recorded.
    public func finish(because reason: String) {
        let first = plannedStop.withLock { stored -> Bool in
            guard stored == nil else { return false }
            stored = reason
            return true
        }
        guard first else { return }
        logger.notice("\(reason): the final merge and its evaluation, then mwad stops")
        requestStop()
    }

    /// Why the loop stops, where that is the plan rather than a signal to stop: the
    /// trainer it followed exited, or training finished.
    public var stopReason: String? { plannedStop.withLock { $0 } }

    /// Whether the loop stopped because its lock file was removed or replaced.
    public var lostLock: Bool { lockLost.load(ordering: .relaxed) }

    /// False, once the lock is found lost: the loop then stops.
    func checkLock() -> Bool {
        guard let lock, !lock.isHeld else { return true }
        lockLost.store(true, ordering: .relaxed)
        logger.error("\(LedgerError.lockLost(path: config.ledger))")
        return false
    }

    /// Runs until ``requestStop()``: reconciles, reports ready, then follows changes.
    public func run() async {
        await DaemonLoop(engine: self).run()
    }

    /// One pass for `mwad run --once`: reconcile, merge if needed, wait for the hook.
    /// Returns whether the published merge now reflects the directory with nothing
    /// failing on the way (the exit status of `--once`).
    public func runOnce() async -> OnceOutcome {
        await DaemonLoop(engine: self).runOnce()
    }
}
