import Clocks
import Daemon
import Foundation
import HostFileSystem
import Ledger
import Logging
import Synchronization

/// The daemon's loop in process, on virtual time: a `TestClock` the test moves by hand
/// (the daemon sees it as its ``DaemonClock``), a file ledger, the log kept in memory.
///
/// Time passes only when the test says so: a debounce, a heartbeat interval or a hook's
/// timeout elapses at ``advance(_:)``, at once. What takes real time (inotify, reading
/// and merging checkpoints) is waited for by a condition (``settle(_:)``), never by a sleep.
final class VirtualDaemon: Sendable {
    let clock = TestClock()
    /// The virtual time at the start: the real time then, so that the times of files
    /// written in the test (the kernel's) compare with the daemon's as they would.
    let origin = Date()
    let engine: DaemonEngine
    let ledger: Ledger
    let log = LogLines()
    private let loop = Mutex<Task<Void, Never>?>(nil)

    /// A daemon with these config keys (`watch.directory`, `output`, …) and the ledger
    /// at `ledger`.
    init(_ flags: [String: String], environment: [String: String] = [:]) async throws {
        start = clock.now
        let config = try await ConfigLoader.load(file: nil, environment: environment, flags: flags)
        ledger = try Ledger(path: config.ledger)
        let log = self.log
        engine = DaemonEngine(config: config, ledger: ledger, logger: Logger(label: "mwad") { _ in log },
                              notifier: SystemdNotifier(environment: [:]), clock: DaemonClock(clock, startingAt: origin))
    }

    /// The virtual time now.
    var now: Date { origin.addingTimeInterval(start.duration(to: clock.now).seconds) }
    private let start: TestClock<Duration>.Instant

    /// Starts the loop and waits until it reports ready.
    func start() async -> Bool {
        let engine = self.engine
        loop.withLock { $0 = Task { await engine.run() } }
        return await settle { self.log.has("info ready") }
    }

    /// Stops the loop and waits for its end.
    func stop() async {
        engine.requestStop()
        await loop.withLock { $0 }?.value
    }

    /// Moves virtual time forward by `seconds` (to the microsecond, as the daemon's
    /// deadlines are): every wait due by then ends.
    func advance(_ seconds: Double) async {
        await clock.advance(by: .microseconds(Int64((seconds * 1e6).rounded())))
    }

    /// Moves virtual time forward `step` seconds at a time, letting the loop act on
    /// each, until `condition` holds or `limit` seconds have passed; whether it holds.
    func advance(by step: Double, until limit: Double, _ condition: @Sendable () -> Bool) async -> Bool {
        var passed = 0.0
        while !condition(), passed < limit {
            await advance(step)
            passed += step
            _ = await settle(timeout: 0.05, condition)
        }
        return condition()
    }

    /// Waits (in real time, virtual time standing still) until `condition` holds, at
    /// most `timeout` seconds; whether it does. Generous: the whole suite shares two
    /// cores, and the tests that block a thread waiting for a process can hold this
    /// test's (and the daemon's) next step back for minutes; only a hang fails here.
    func settle(timeout: Double = 600, _ condition: @Sendable () -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + .seconds(timeout)
        while ContinuousClock.now < deadline {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return condition()
    }

    /// Whether `condition` still holds after the loop had a moment (real time) to act
    /// on what it was last given: for "nothing happened yet".
    func stays(_ condition: @Sendable () -> Bool) async -> Bool {
        for _ in 0..<20 {
            guard condition() else { return false }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return condition()
    }

    /// The ledger as it is now.
    var snapshot: LedgerSnapshot? { try? ledger.snapshot() }
}

/// Log lines kept in memory, as `LEVEL message`.
final class LogLines: LogHandler, Sendable {
    private let lines = Mutex<[String]>([])
    var all: [String] { lines.withLock { $0 } }
    /// Whether a line contains `text`.
    func contains(_ text: String) -> Bool { lines.withLock { $0.contains { $0.contains(text) } } }
    /// Whether this line was logged.
    func has(_ line: String) -> Bool { lines.withLock { $0.contains(line) } }

    func log(level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?, source: String, file: String,
             function: String, line: UInt) {
        lines.withLock { $0.append("\(level) \(message)") }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { nil }
        set {}
    }

    var metadata: Logger.Metadata {
        get { [:] }
        set {}
    }

    var logLevel: Logger.Level {
        get { .debug }
        set {}
    }
}
