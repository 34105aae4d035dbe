import Foundation
import Ingest
import Ledger
import Publish
import Logging
import ServiceLifecycle

/// The daemon as a swift-service-lifecycle service: SIGTERM or SIGINT asks the engine
/// to finish its current step (a merge in progress completes and is published whole,
/// or was never started), then it sends STOPPING=1 and returns.
public struct DaemonService: Service {
    public let engine: DaemonEngine

    public init(engine: DaemonEngine) { self.engine = engine }

    public func run() async throws {
        await withGracefulShutdownHandler {
            await engine.run()
        } onGracefulShutdown: {
            engine.requestStop()
        }
    }

    /// Builds the engine from `config` (taking the ledger's writer lock, then opening
    /// it) and runs it until SIGTERM or SIGINT; with `once`, one pass. Returns how it
    /// ended: for `--once`, whether the published merge reflects the directory, and
    /// what else failed.
    /// Throws, before anything is written, when the ledger is held by another mwad,
    /// belongs to another run, or (with `once`) the watched directory does not exist;
    /// and after stopping, when the lock file was removed or replaced under it.
    public static func run(config: DaemonConfig, once: Bool, untilPID: Int32? = nil, environment: [String: String]) async throws -> OnceOutcome {
        // A file size limit or a closed pipe must fail the one write (EFBIG, EPIPE),
        // which is reported and retried, not kill the daemon.
        signal(SIGXFSZ, SIG_IGN)
        signal(SIGPIPE, SIG_IGN)
        // A wake-up (SIGUSR1) sent before the handler below exists must not end the
        // daemon, whose default action it would be; nor may a finish (SIGUSR2).
        signal(SIGUSR1, SIG_IGN)
        signal(SIGUSR2, SIG_IGN)
        // One checkpoint given as the run: never a run to wait on.
        if let advice = PathAdvice.oneCheckpoint(config.watchDirectory) { throw ConfigError.output(advice) }
        if once, !RootWatch.isDirectory(config.watchDirectory) {
            throw IngestError.runDirectoryUnreadable(path: config.watchDirectory, reason: "no such folder (nothing was written)")
        }
        // The target, for the layout named or the one the run shows already (auto): where it may publish.
        // A target named explicitly is known before the layout is.
        let publication = (LayoutCatalog.named(config.layout) ?? LayoutCatalog.detect(in: config.watchDirectory)?.description)
            .map { config.makePublication($0.make(MetricsSource())) } ?? (config.publish == "auto" ? nil : config.makePublication(config.makeLayout()))
        if let problem = OutputPlacement.problem(config.output, run: config.watchDirectory, target: publication) {
            throw ConfigError.output("the output \(config.output) \(problem)")
        }
        // A single file is renamed into the output folder: that folder must be writable.
        if let problem = OutputCheck.problem(output: publication?.target(at: config.output) ?? config.output) { throw ConfigError.output(problem) }
        let logger = makeLogger(level: config.logLevel, environment: environment)
        let lock = try LedgerLock(ledger: config.ledger)
        let ledger = try Ledger(path: config.ledger, run: config.watchDirectory)
        let engine = DaemonEngine(config: config, ledger: ledger, lock: lock, logger: logger,
                                  notifier: SystemdNotifier(environment: environment))
        defer { withExtendedLifetime(lock) {} }  // held until the daemon has stopped
        if once { return await engine.runOnce() }
        // SIGUSR1: look at the run now (a trainer's callback after each save, or anyone
        // where inotify is blind: NFS, Lustre), instead of at the next poll.
        let wakeUp = DispatchSource.makeSignalSource(signal: SIGUSR1, queue: .global())
        wakeUp.setEventHandler { [logger] in
            logger.debug("SIGUSR1: looking at \(config.watchDirectory) now")
            engine.wakeNow()
        }
        wakeUp.resume()
        defer { wakeUp.cancel() }
        // SIGUSR2: training finished (the callback's on_train_end): the final merge and
        // its evaluation, then exit 0, as when the followed trainer is gone.
        let finished = DispatchSource.makeSignalSource(signal: SIGUSR2, queue: .global())
        finished.setEventHandler { engine.finish(because: "training finished (SIGUSR2)") }
        finished.resume()
        defer { finished.cancel() }
        if let untilPID { engine.stop(whenGone: untilPID) }
        let group = ServiceGroup(configuration: .init(
            services: [.init(service: DaemonService(engine: engine))],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
        // A loop that lost its lock ends on its own, which ServiceGroup reports as
        // unexpected: say why instead. Exit 1, and systemd's restart locks afresh.
        // So does one whose trainer (--until-pid) is gone or whose training finished
        // (SIGUSR2): that end is the plan, exit 0.
        do { try await group.run() } catch where engine.lostLock || engine.stopReason != nil {}
        if engine.lostLock { throw LedgerError.lockLost(path: config.ledger) }
        return OnceOutcome(reflected: true, published: true, failures: [])
    }

    public static func makeLogger(level: Logger.Level, environment: [String: String]) -> Logger {
        var logger = Logger(label: "mwad") { _ in DaemonLogHandler(level: level, environment: environment) }
        logger.logLevel = level
        return logger
    }
}

/// How `mwad run` ended: whether the published merge reflects the run (for `--once`),
/// whether any merge is published, and what failed, each once with its reason
/// (`cannot write the metrics file …: …`).
public struct OnceOutcome: Sendable, Equatable {
    public var reflected: Bool
    public var published: Bool
    public var failures: [String]

    public init(reflected: Bool, published: Bool, failures: [String]) {
        self.reflected = reflected
        self.published = published
        self.failures = failures
    }

    /// The last line for a script's log: the real cause, the merge's own or another's.
    public func finalLine(watching run: String) -> String? {
        let causes = failures.joined(separator: "; ")
        switch (reflected, failures.isEmpty) {
        case (true, true): return nil
        case (true, false): return "the published merge reflects \(run), but \(causes)"
        case (false, true): return "the published merge does not reflect \(run); see the log above"
        case (false, false): return published ? "the published merge does not reflect \(run): \(causes)" : causes
        }
    }
}
