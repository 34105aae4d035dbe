import Foundation
import HostFileSystem
import Ingest
import Ledger
import Logging
import Publish
import SafeTensors
import Synchronization
import Watch
import Weigh

/// The daemon: watches the run directory, ingests each new checkpoint, keeps the
/// rolling merge published, and reports its health to the ledger and to systemd.
///
/// Watch events are only wake-ups: every wake-up re-reads the directory and compares
/// it with the ledger, so lost, repeated or reordered events (or an inotify queue
/// overflow) can delay a decision but never make it wrong, and a burst of
/// checkpoints yields one merge.
public final class DaemonEngine: Sendable {
    public let config: DaemonConfig
    private let ledger: Ledger
    private let logger: Logger
    private let notifier: SystemdNotifier
    private let wake = WakeSignal()
    private let stopping = Atomic<Bool>(false)
    private let state: Mutex<State>

    /// What the loop keeps between wake-ups (used from the loop only; the mutex makes
    /// the engine Sendable for the shutdown handler).
    struct State {
        var watcher: InotifyWatcher?
        var rootPresent = false
        var waitingLogged = false
        var lastHeartbeat = Date.distantPast
        var lastWatchdog = Date.distantPast
        var lastStatus = ""
        var logged: Set<String> = []
        var waiting: [String: String] = [:]
        /// The skipped folders last recorded; nil until the first scan records them.
        var skipped: [SkippedEntry]?
        var hook: Task<Void, Never>?
        var ready = false
        /// Whether the run and this daemon are in the ledger yet.
        var startRecorded = false
        /// The last failure reported, so that a persistent one is not logged every scan.
        var lastReported: String?
    }

    public init(config: DaemonConfig, ledger: Ledger, logger: Logger, notifier: SystemdNotifier) {
        self.config = config
        self.ledger = ledger
        self.logger = logger
        self.notifier = notifier
        state = Mutex(State())
    }

    /// How changes are noticed, and why.
    public var watchStrategy: (polling: Bool, reason: String) {
        switch config.watchMode {
        case .poll: return (true, "watch.mode is poll")
        case .inotify: return (false, "watch.mode is inotify")
        case .auto:
            let kind = FileSystemKind.of(config.watchDirectory)
            return kind.isLocal ? (false, "local file system") : (true, "\(kind) file system: inotify cannot see other clients' writes")
        }
    }

    /// Asks the loop to finish its current step and return. Safe from any task.
    public func requestStop() {
        stopping.store(true, ordering: .relaxed)
        wake.signal()
    }

    /// Runs until ``requestStop()``: reconciles, reports ready, then follows changes.
    public func run() async {
        start()
        while !stopping.load(ordering: .relaxed) {
            await tick()
            if !state.withLock({ $0.ready }) {
                state.withLock { $0.ready = true }
                notifier.send("READY=1")
                logger.info("ready")
                heartbeat(now: Date())  // the first STATUS and WATCHDOG, now that READY went out
            }
            guard !stopping.load(ordering: .relaxed) else { break }
            await wake.wait(timeout: nextTimeout())
        }
        await finish()
    }

    /// One pass for `mwad run --once`: reconcile, merge if needed, exit.
    public func runOnce() async {
        start()
        await tick()
        await finish()
    }

    // MARK: - Start and stop

    private func start() {
        let strategy = watchStrategy
        logger.info("mwad \(Provenance.version) watching \(config.watchDirectory) (\(strategy.polling ? "polling every \(config.pollInterval) s" : "inotify"): \(strategy.reason)); output \(config.output); ledger \(config.ledger); window \(config.merge.window), \(config.merge.weighting.rawValue) weighting, penalty \(config.merge.penalty)")
        recordStart()
        AtomicDirectory.removeLeftovers(of: config.output)
        RetainedStore(stateDirectory: config.stateDirectory).removeLeftovers()
        SumUpdate.removeLeftovers(stateDirectory: config.stateDirectory)
    }

    private func finish() async {
        notifier.send("STOPPING=1")
        let (watcher, hook) = state.withLock { ($0.watcher, $0.hook) }
        watcher?.stop()
        if let hook {
            logger.info("waiting for the on_merge hook to finish")
            await hook.value
        }
        try? ledger.daemonStopped()
        logger.info("stopped")
    }

    // MARK: - One pass

    /// Ingests at once (the trainer's rotation may delete a checkpoint soon), then
    /// merges once the burst is over: a burst of checkpoints yields one merge.
    private func tick() async {
        if await rootAvailable() {
            var events = drainEvents()
            if state.withLock({ $0.rootPresent }) {
                reconcile(now: Date())
                let burstEnd = Date().addingTimeInterval(max(5, 10 * config.debounce))
                while !events.isEmpty, config.debounce > 0, Date() < burstEnd, !stopping.load(ordering: .relaxed) {
                    try? await Task.sleep(for: .seconds(config.debounce))
                    events = drainEvents()
                    if state.withLock({ $0.rootPresent }) { reconcile(now: Date()) }
                }
                if state.withLock({ $0.rootPresent }) { mergeIfNeeded() }
            }
        }
        heartbeat(now: Date())
    }

    /// Whether the watched directory exists; arms or disarms the watcher as it comes
    /// and goes (the trainer may not have started yet, or the folder was recreated).
    private func rootAvailable() async -> Bool {
        var isDirectory: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: config.watchDirectory, isDirectory: &isDirectory) && isDirectory.boolValue
        let (present, logged) = state.withLock { ($0.rootPresent, $0.waitingLogged) }
        if !exists {
            if present { disarm(reason: "\(config.watchDirectory) disappeared; waiting for it to come back") }
            if !logged {
                logger.notice("waiting for \(config.watchDirectory) to appear")
                state.withLock { $0.waitingLogged = true }
            }
            return false
        }
        if !present { arm() }
        return true
    }

    private func arm() {
        var watcher: InotifyWatcher?
        if !watchStrategy.polling {
            do {
                let signal = wake
                watcher = try InotifyWatcher(directory: config.watchDirectory,
                                             isCheckpointFolder: { if case .checkpoint = CheckpointName($0) { true } else { false } },
                                             wake: { signal.signal() })
                watcher?.start()
            } catch {
                report("inotify unavailable, polling every \(config.pollInterval) s instead", error)
            }
        }
        state.withLock {
            $0.watcher = watcher
            $0.rootPresent = true
            $0.waitingLogged = false
        }
    }

    private func disarm(reason: String) {
        logger.warning("\(reason)")
        let watcher = state.withLock { state -> InotifyWatcher? in
            state.rootPresent = false
            defer { state.watcher = nil }
            return state.watcher
        }
        watcher?.stop()
    }

    /// Takes the watcher's events; reacts to the directory going away or an overflow.
    private func drainEvents() -> Set<WatchEvent> {
        guard let watcher = state.withLock({ $0.watcher }) else { return [] }
        let events = watcher.drain()
        if events.contains(.overflow) { logger.notice("inotify queue overflowed; rescanning \(config.watchDirectory)") }
        if events.contains(.rootGone) { disarm(reason: "\(config.watchDirectory) was deleted or moved; waiting for it to come back") }
        return events
    }

    // MARK: - Ingest

    private func reconcile(now: Date) {
        let run: RunDirectory
        do { run = try RunDirectory.scan(config.watchDirectory) } catch {
            report("cannot list \(config.watchDirectory)", error)
            return
        }
        for entry in run.skipped { logOnce("skip:\(entry.name)", .warning, "skipped \(entry.name): \(entry.reason)") }
        recordSkipped(run.skipped)
        let known: [CheckpointRecord]
        do { known = try ledger.checkpoints() } catch {
            report("cannot read the ledger", error)
            return
        }
        let current = Dictionary(known.filter { $0.status != .replaced }.map { ($0.step, $0) }, uniquingKeysWith: { a, b in a.id! > b.id! ? a : b })
        var reference = windowReference(known)
        let ingestor = makeIngestor()
        var waiting: [String: String] = [:]
        for ref in run.checkpoints {
            switch ingestor.ingest(ref, known: current[ref.step], reference: reference, now: now) {
            case .waiting(let reason): waiting[ref.name] = reason
            case .unchanged: break
            case .ingested(let row): if let ingested = record(row, known: current[ref.step]) { reference = newer(reference, ingested) }
            case .rejected(let row): _ = record(row, known: current[ref.step])
            }
        }
        state.withLock { $0.waiting = waiting }
        markVanished(known, present: Set(run.checkpoints.map(\.path)))
    }

    /// Keeps the ledger's skipped folders in step with the run directory, writing
    /// only when they change.
    private func recordSkipped(_ entries: [SkippedEntry]) {
        guard state.withLock({ $0.skipped != entries }) else { return }
        do {
            try ledger.setSkipped(entries.map { ($0.name, $0.reason) })
            state.withLock { $0.skipped = entries }
        } catch {
            report("cannot record skipped folders", error)
        }
    }

    private func makeIngestor() -> CheckpointIngestor {
        CheckpointIngestor(settings: config.merge, method: (try? config.merge.method()) ?? UniformWeighting(),
                           store: RetainedStore(stateDirectory: config.stateDirectory), settleTime: config.settleTime)
    }

    /// Records a decision; logs it once. Returns the row when it is newly ingested.
    private func record(_ row: CheckpointRecord, known: CheckpointRecord?) -> CheckpointRecord? {
        let outcome: CheckpointOutcome
        do {
            if let known, known.status == .rejected, row.status == .ingested,
               known.adapterSHA256 == nil || known.adapterSHA256 == row.adapterSHA256 {
                // The same file (or one never read: unreadable, or changing while it was
                // copied), now usable: e.g. its permissions were fixed.
                var revived = row
                revived.id = known.id
                try ledger.update(revived)
                outcome = .recorded(revived)
            } else {
                outcome = try ledger.record(row)
            }
        } catch {
            report("cannot record \(row.name)", error)
            return nil
        }
        let store = RetainedStore(stateDirectory: config.stateDirectory)
        switch outcome {
        case .unchanged:
            if let retained = row.retainedPath, retained != known?.retainedPath { store.remove(retained) }
            return nil
        case .replaced(let old, let new):
            if let retained = old.retainedPath { store.remove(retained) }
            logger.notice("\(new.name) was written again with other content (training resumed?); the earlier one is marked replaced")
            for abandoned in (try? ledger.supersede(after: new.step)) ?? [] {
                if let retained = abandoned.retainedPath { store.remove(retained) }
                logger.notice("\(abandoned.name) belongs to the abandoned run after step \(new.step); marked replaced")
            }
            return announce(new)
        case .recorded(let new):
            return announce(new)
        }
    }

    private func announce(_ row: CheckpointRecord) -> CheckpointRecord? {
        if row.status == .rejected {
            logger.warning("rejected \(row.name): \(row.reason ?? "no reason")")
            return nil
        }
        let loss = row.trainLoss.map { String(format: " (train_loss %.6f)", $0) } ?? ""
        logger.info("ingested \(row.name)\(loss)")
        return row
    }

    /// The newest ingested checkpoint's adapter: new ones must have its tensors.
    private func windowReference(_ rows: [CheckpointRecord]) -> CheckpointIngestor.Reference? {
        guard let newest = rows.filter({ $0.status == .ingested }).max(by: { $0.step < $1.step }) else { return nil }
        return reference(newest)
    }

    private func newer(_ current: CheckpointIngestor.Reference?, _ row: CheckpointRecord) -> CheckpointIngestor.Reference? {
        guard let current, current.step > row.step else { return reference(row) ?? current }
        return current
    }

    private func reference(_ row: CheckpointRecord) -> CheckpointIngestor.Reference? {
        guard let retained = row.retainedPath,
              let file = try? SafeTensorsFile(path: "\(retained)/\(Checkpoint.adapterFile)") else { return nil }
        return CheckpointIngestor.Reference(name: row.name, step: row.step, file: file)
    }

    private func markVanished(_ rows: [CheckpointRecord], present: Set<String>) {
        for row in rows where row.vanishedAt == nil && !present.contains(row.sourcePath)
            && !FileManager.default.fileExists(atPath: row.sourcePath) {
            try? ledger.markVanished(checkpointID: row.id!)
        }
    }

    // MARK: - Merge

    private func mergeIfNeeded() {
        let merge = RollingMerge(config: config, ledger: ledger, store: RetainedStore(stateDirectory: config.stateDirectory),
                                 logger: logger)
        do {
            guard let published = try merge.update() else { return }
            state.withLock { $0.lastReported = nil }
            runHook(published)
        } catch {
            report("merge failed; the previous merge stays published", error)
        }
    }

    private func runHook(_ published: RollingMerge.Published) {
        guard !config.onMerge.isEmpty, let id = published.record.id else { return }
        let hook = MergeHook(argv: config.onMerge, timeout: config.hookTimeout)
        let (ledger, logger, output) = (self.ledger, self.logger, config.output)
        state.withLock { state in
            let previous = state.hook
            state.hook = Task {
                await previous?.value  // one at a time, in merge order
                let outcome = await hook.run(output: output, step: published.newestStep, mergeID: id)
                try? ledger.setHookStatus(outcome, mergeID: id)
                if outcome == "ok" {
                    logger.info("on_merge hook for merge #\(id): ok")
                } else {
                    logger.warning("on_merge hook for merge #\(id): \(outcome)")
                    try? ledger.recordError("on_merge hook for merge #\(id): \(outcome)")
                }
            }
        }
    }

    /// Records the run and this daemon in the ledger; tried again at each heartbeat
    /// until it succeeds (the ledger may be unwritable at start), so that status does
    /// not report a running daemon as one that never ran.
    private func recordStart() {
        do {
            try ledger.registerRun(watch: config.watchDirectory, output: config.output, settings: config.merge)
            try ledger.daemonStarted(DaemonRecord(pid: getpid(), host: ProcessInfo.processInfo.hostName, version: Provenance.version,
                                                  startedAt: Date(), heartbeatAt: Date(), heartbeatInterval: config.heartbeatInterval))
            state.withLock { $0.startRecorded = true }
        } catch {
            report("cannot record the daemon's start", error)
        }
    }

    // MARK: - Health

    private func heartbeat(now: Date) {
        let (lastBeat, lastDog) = state.withLock { ($0.lastHeartbeat, $0.lastWatchdog) }
        if now.timeIntervalSince(lastBeat) >= config.heartbeatInterval {
            if state.withLock({ $0.startRecorded }) { try? ledger.heartbeat(at: now) } else { recordStart() }
            state.withLock { $0.lastHeartbeat = now }
        }
        let ready = state.withLock { $0.ready }
        let line = statusLine()
        if ready, line != state.withLock({ $0.lastStatus }) {
            notifier.send("STATUS=\(line)")
            state.withLock { $0.lastStatus = line }
        }
        if ready, let interval = notifier.watchdogInterval, now.timeIntervalSince(lastDog) >= interval * 0.9 {
            notifier.send("WATCHDOG=1")
            state.withLock { $0.lastWatchdog = now }
        }
    }

    /// One line for `systemctl status`: last step, members, last merge.
    func statusLine() -> String {
        guard state.withLock({ $0.rootPresent }) else { return "waiting for \(config.watchDirectory) to appear" }
        let rows = (try? ledger.checkpoints(status: .ingested)) ?? []
        guard let merge = try? ledger.lastMerge() else {
            return rows.isEmpty ? "watching \(config.watchDirectory); no checkpoint yet" : "\(rows.count) checkpoints; no merge yet"
        }
        let members = (try? ledger.members(ofMerge: merge.id!).count) ?? 0
        let last = rows.last.map { "step \($0.step)" } ?? "no step"
        return "\(last) · \(members) members in merge #\(merge.id!) · published \(HumanTime.clock(merge.createdAt))"
    }

    /// Seconds until the loop must look again even without an event.
    private func nextTimeout() -> Double {
        var timeout = min(config.reconcileInterval, config.heartbeatInterval)
        if let watchdog = notifier.watchdogInterval { timeout = min(timeout, watchdog) }
        let (watching, present, waiting) = state.withLock { ($0.watcher != nil, $0.rootPresent, !$0.waiting.isEmpty) }
        if !watching || !present { timeout = min(timeout, present ? config.pollInterval : 1) }
        if waiting { timeout = min(timeout, max(0.5, config.settleTime / 4)) }
        return timeout
    }

    private func logOnce(_ key: String, _ level: Logger.Level, _ message: String) {
        guard state.withLock({ $0.logged.insert(key).inserted }) else { return }
        logger.log(level: level, "\(message)")
    }

    /// Logs and records a failure; the same failure again (a fault that persists across
    /// scans) is logged at debug level only, until something succeeds in between.
    private func report(_ what: String, _ error: any Error) {
        let text = "\(what): \(error)"
        // Keyed by what failed: the error's text may name a different temporary path each time.
        let repeated = state.withLock { state -> Bool in
            defer { state.lastReported = what }
            return state.lastReported == what
        }
        if repeated {
            logger.debug("\(text)")
            return
        }
        logger.error("\(text)")
        try? ledger.recordError(text)
    }
}

/// Short UTC times for the status line.
enum HumanTime {
    static func clock(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "HH:mm:ss'Z'"
        return formatter.string(from: date)
    }
}
