import Foundation
import HostFileSystem
import Ingest
import Ledger
import Logging
import Merge
import Publish
import TensorBoard
import Evaluate
import Settings
import Weigh

/// The daemon's loop and everything it keeps between wake-ups. It runs on one task and
/// owns its state outright; each wake-up (an inotify event, a poll or safety-net
/// timeout, a stop request) is one step: look at the directory, ingest at once, merge
/// once the burst is over, beat.
final class DaemonLoop {
    private let engine: DaemonEngine
    private var config: DaemonConfig { engine.config }
    private let root: RootWatch
    private let reporter: FailureReporter
    private let reconciler: Reconciler
    private let rollingMerge: RollingMerge
    private let heartbeat: Heartbeat
    private let hooks: HookQueue
    private let metrics: MetricsFile
    private let evaluation: EvaluationQueue
    private var layoutReport: LayoutReport
    private let scoreBoard: ScoreBoard?
    private var sightings = Sightings()
    private var schedule: MergeSchedule
    private var waiting: [String: String] = [:]
    private var statusLine = ""
    /// What the status line was made from besides the ledger: it follows them at once.
    private var statusInputs = StatusInputs()
    private var ready = false

    init(engine: DaemonEngine) {
        self.engine = engine
        let config = engine.config
        let (ledger, logger) = (engine.ledger, engine.logger)
        let store = RetainedStore(stateDirectory: config.stateDirectory)
        let wake = engine.wake
        root = RootWatch(directory: config.watchDirectory, polling: engine.watchStrategy.polling, layout: engine.layout,
                         logger: logger, wake: { wake.signal() })
        reporter = FailureReporter(ledger: ledger, logger: logger)
        let recorder = Recorder(ledger: ledger, store: store, logger: logger, reporter: reporter, settings: config.merge)
        let layout = engine.layout
        let scoreBoard = config.scoreBoardFolder(layout).map { _ in ScoreBoard { config.scoreBoardFolder(layout)! } }
        recorder.onEarlierRunReplaced = { step in
            do throws(TensorBoardError) { try scoreBoard?.restarted(at: step) } catch {
                logger.warning("cannot mark the restart at step \(step) in TensorBoard: \(error)")
            }
        }
        self.scoreBoard = scoreBoard
        let ingestor = CheckpointIngestor(settings: config.merge, layout: engine.layout, store: store,
                                          settleTime: config.settleTime, clock: engine.clock.now)
        reconciler = Reconciler(directory: config.watchDirectory, layout: engine.layout, ingestor: ingestor, ledger: ledger,
                                recorder: recorder, reporter: reporter)
        rollingMerge = RollingMerge(config: config, layout: engine.layout, publication: engine.publication, ledger: ledger, store: store, logger: logger)
        heartbeat = Heartbeat(config: config, ledger: ledger, notifier: engine.notifier, reporter: reporter)
        hooks = HookQueue(argv: config.onMerge, timeout: config.hookTimeout, clock: engine.clock, ledger: ledger, logger: logger)
        metrics = MetricsFile(path: config.metricsTextfile, ledger: ledger, reporter: reporter)
        evaluation = EvaluationQueue(config: config, layout: engine.layout, publication: engine.publication, ledger: ledger, logger: logger, scoreBoard: scoreBoard,
                                     clock: engine.clock)
        layoutReport = LayoutReport(layout: engine.layout, publication: engine.publication, publish: config.publish,
                                    ledger: ledger, logger: logger)
        schedule = MergeSchedule(debounce: config.debounce)
    }

    func run() async {
        start()
        await evaluation.resume()
        while !engine.isStopping, engine.checkLock() {
            await step(now: engine.clock.now())
            if !ready {
                ready = true
                engine.notifier.send("READY=1")
                engine.logger.info("ready")
            }
            if heartbeat.beat(now: engine.clock.now(), ready: ready, statusLine: { statusLine }) { metrics.write(up: true) }
            engine.serving?.check(now: engine.clock.now())
            guard !engine.isStopping else { break }
            let now = engine.clock.now()
            await engine.wake.wait(until: now.addingTimeInterval(nextTimeout(now: now)), clock: engine.clock)
        }
        // The trainer is gone: what it saved last is merged now (no burst to wait
        // out) and evaluated before the daemon stops.
        if engine.stopReason != nil, engine.checkLock() {
            root.refresh()
            if root.isPresent {
                _ = reconciler.pass(sightings: &sightings, appeared: root.drain().appeared, now: engine.clock.now())
                await merge(now: engine.clock.now())
            }
            await evaluation.drain()
        }
        await finish()
    }

    func runOnce() async -> OnceOutcome {
        start()
        reporter.clear()
        root.refresh()
        var reflected = false
        if root.isPresent {
            _ = reconciler.pass(sightings: &sightings, now: engine.clock.now())
            layoutReport.check()
            await evaluation.resume()
            await merge(now: engine.clock.now())
            await evaluation.drain()  // --once waits for the evaluations of its window
            reflected = (try? publishedMergeReflectsLedger()) ?? false
            // Checkpoints ingested and still no merge: the merge failed, and said why.
            if let snapshot = try? engine.ledger.snapshot(), snapshot.merge == nil, snapshot.ingested.isEmpty {
                reporter.report("nothing to merge", NothingToMerge(directory: config.watchDirectory, snapshot: snapshot))
            }
        } else {
            reporter.report("cannot read the run", IngestError.runDirectoryUnreadable(path: config.watchDirectory, reason: "no such folder"))
        }
        await finish()
        let published = (try? engine.ledger.snapshot().merge) != nil
        return OnceOutcome(reflected: reflected && published, published: published, failures: reporter.failuresSinceClear)
    }

    // MARK: - One step

    private func step(now: Date) async {
        root.refresh()
        let events = root.drain()
        guard root.isPresent else {
            if currentStatusInputs != statusInputs || statusLine.isEmpty { refreshStatusLine() }
            return
        }
        let pass = reconciler.pass(sightings: &sightings, appeared: events.appeared, now: now)
        layoutReport.check()
        waiting = pass.waiting
        if pass.changed || events.any { schedule.activity(at: now) }
        // At start-up the files were all there already: no burst to wait out.
        if schedule.isDue(at: now) || !ready {
            await merge(now: now)
            schedule.merged()
        }
        if pass.changed || statusLine.isEmpty || currentStatusInputs != statusInputs { refreshStatusLine() }
    }

    /// The run directory's absence and the persisting problem, which change without a row.
    private struct StatusInputs: Equatable {
        var absence: String?
        var problem: String?
    }

    private var currentStatusInputs: StatusInputs {
        StatusInputs(absence: root.isPresent ? nil : root.absence, problem: reporter.problemText)
    }

    private func merge(now: Date) async {
        let stays = "merge failed; the previous merge stays published", none = "merge failed; nothing is published yet"
        do {
            let update = try rollingMerge.update(now: now)
            // A merge error (a method that cannot take a member, a member the weighting
            // cannot weigh) lasts in status and STATUS= until a merge works again.
            reporter.resolve(stays)
            reporter.resolve(none)
            guard let published = update else { return }
            reporter.succeeded()
            refreshStatusLine()
            hooks.enqueue(output: published.record.outputPath, step: published.newestStep, mergeID: published.record.id!)
            do throws(TensorBoardError) { try scoreBoard?.merged(published.weights) } catch {
                engine.logger.warning("cannot log merge #\(published.record.id!) to TensorBoard: \(error)")
            }
            keepNewest(published)
            await evaluation.enqueue(published)
        } catch {
            let published = (try? engine.ledger.snapshot().merge) != nil
            reporter.problem(published ? stays : none, error)
        }
    }

    /// Whether the newest merge is of the current window, with the settings in force.
    private func publishedMergeReflectsLedger() throws -> Bool {
        let snapshot = try engine.ledger.snapshot()
        let window = DaemonWindow(snapshot: snapshot, config: config).members
        return window.isEmpty || !RollingMerge.needsMerge(window: window, snapshot: snapshot, config: config, publication: engine.publication)
    }

    /// After a change: the status line and the metrics file follow.
    private func refreshStatusLine() {
        let snapshot = try? engine.ledger.snapshot()
        statusInputs = currentStatusInputs
        statusLine = Heartbeat.statusLine(snapshot, watching: config.watchDirectory, absence: statusInputs.absence,
                                          problem: statusInputs.problem)
        if let snapshot { metrics.write(snapshot, up: true) }
    }

    /// Seconds until the loop must look again even without an event.
    private func nextTimeout(now: Date) -> Double {
        var timeout = min(config.reconcileInterval, heartbeat.secondsUntilDue(now: now))
        if !root.isWatched { timeout = min(timeout, config.pollInterval) }
        if !waiting.isEmpty { timeout = min(timeout, max(0.5, config.settleTime / 4)) }
        if schedule.burstStart != nil { timeout = min(timeout, schedule.secondsUntilDue(at: now)) }
        if let serving = engine.serving?.secondsUntilCheck(now: now) { timeout = min(timeout, max(0.5, serving)) }
        return timeout
    }

    // MARK: - Start and stop

    private func start() {
        let strategy = engine.watchStrategy
        engine.logger.info("mwad \(MWADVersion.current) watching \(config.watchDirectory) (\(strategy.polling ? "polling every \(MergeSettings.number(config.pollInterval)) s" : "inotify"): \(strategy.reason)); output \(config.output); ledger \(config.ledger); \(config.merge.summary); \(Self.evaluationSummary(config.evaluation))")
        if let snapshot = try? engine.ledger.snapshot(),
           let notice = ChangeNotice.line(config: config, run: snapshot.run, snapshot: snapshot) {
            engine.logger.notice("\(notice)")
        }
        heartbeat.recordStart(now: engine.clock.now())
        layoutReport.check()
        AtomicDirectory.removeLeftovers(of: engine.publication.target(at: config.output))
        RetainedStore(stateDirectory: config.stateDirectory).removeLeftovers()
        SumUpdate.removeLeftovers(stateDirectory: config.stateDirectory)
    }

    /// `eval.keep_newest`: the window's newest checkpoint beside the merge, from its
    /// retained copy. A failure is a problem shown until the next one works.
    private func keepNewest(_ published: RollingMerge.Published) {
        guard let folder = config.keepNewest, let newest = published.members.last(where: { $0.step == published.newestStep }) else { return }
        let what = "cannot keep the newest checkpoint in \(folder)"
        do {
            let row = try engine.ledger.snapshot().checkpoints.last { $0.step == newest.step && $0.status != .replaced }
            try CheckpointExport.write(retained: newest.retained, publication: engine.publication, step: newest.step, source: newest.source,
                                       sha256: row?.adapterSHA256, to: folder)
            reporter.resolve(what)
        } catch {
            reporter.problem(what, error)
        }
    }

    /// `evaluation off`, or what is evaluated and where the best goes, for the start line.
    static func evaluationSummary(_ evaluation: EvalSettings?) -> String {
        guard let evaluation else { return "evaluation off (eval.command, --eval-command)" }
        let candidates = evaluation.candidates.isEmpty ? "no candidates" : "candidates: " + evaluation.candidates.map(\.brief).joined(separator: " | ")
        return "evaluation on\(evaluation.mode == .persistent ? " (persistent)" : ""): \(evaluation.command.joined(separator: " ")) scores \(evaluation.metric) (\(evaluation.goal == .minimize ? "lower" : "higher") is better), \(candidates), "
            + (evaluation.bestOutput.map { "best adapter into \($0)" } ?? "no best_output")
    }

    private func finish() async {
        engine.notifier.send("STOPPING=1")
        root.stop()
        await evaluation.stop()
        await hooks.drain()
        await engine.serving?.drain()  // the last best reaches the server before the daemon ends
        try? engine.ledger.daemonStopped(reason: engine.stopReason)
        metrics.write(up: false)
        engine.logger.info("stopped\(engine.stopReason.map { ": \($0)" } ?? "")")
    }
}
