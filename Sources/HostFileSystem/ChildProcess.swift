import Foundation

/// A program the daemon starts and waits for (the `on_merge` hook, the evaluator):
/// argv as given, never a shell; through `env --default-signal`, because the daemon
/// ignores SIGTERM (swift-service-lifecycle handles it) and SIGPIPE and ignored signals
/// survive exec; SIGTERM after `timeout` seconds (or when the waiting task is
/// cancelled), SIGKILL 5 s later; always reaped before its status is read.
public enum ChildProcess {
    /// How it ended.
    public enum Ending: Sendable, Equatable {
        case exited(Int32)
        case signalled(Int32)
        case timedOut
        case failedToStart(String)

        /// `ok`, `exit status N`, `killed by signal N`, `timed out after N s`, `failed to start: …`.
        public func text(timeout: Double) -> String {
            switch self {
            case .exited(0): "ok"
            case .exited(let status): "exit status \(status)"
            case .signalled(let signal): "killed by signal \(signal)"
            case .timedOut: "timed out after \(timeout == timeout.rounded() ? String(Int64(timeout)) : "\(timeout)") s"
            case .failedToStart(let reason): "failed to start: \(reason)"
            }
        }
    }

    /// Runs `argv` with `environment` added to the daemon's, stdout and stderr to the
    /// given files (else nowhere), and returns how it ended. The timeout and the kill
    /// grace are waited on `clock`; nothing blocks a thread of the task pool.
    public static func run(_ argv: [String], environment: [String: String], stdout: String? = nil, stderr: String? = nil,
                           timeout: Double, clock: DaemonClock = .system) async -> Ending {
        guard Posix.executable(argv[0]) != nil else { return .failedToStart("\(argv[0]): no such executable") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["--default-signal"] + argv
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardInput = FileHandle.nullDevice
        let exited = AsyncStream<Void>.makeStream()
        process.terminationHandler = { _ in exited.continuation.finish() }
        let deadline = clock.now().addingTimeInterval(timeout)  // timed from before the start
        do {
            process.standardOutput = try stdout.map { try FileHandle(forWritingTo: URL(fileURLWithPath: $0)) } ?? FileHandle.nullDevice
            process.standardError = try stderr.map { try FileHandle(forWritingTo: URL(fileURLWithPath: $0)) } ?? FileHandle.nullDevice
            try process.run()
        } catch {
            return .failedToStart(error.localizedDescription)
        }
        // The exit is awaited apart from the caller's task: a cancelled caller still
        // waits until the process is gone, and reaps it.
        let exit = Task { for await _ in exited.stream {} }
        let timer = Task { () -> Bool in
            guard (try? await clock.sleep(until: deadline)) != nil else { return false }
            await stop(process, clock: clock)
            return true
        }
        await withTaskCancellationHandler {
            await exit.value
        } onCancel: {
            Task { await stop(process, clock: clock) }
        }
        timer.cancel()
        let timedOut = await timer.value
        process.waitUntilExit()  // it has exited: this returns at once
        if timedOut { return .timedOut }
        return process.terminationReason == .exit ? .exited(process.terminationStatus) : .signalled(process.terminationStatus)
    }

    /// SIGTERM; SIGKILL `grace` seconds later if it ignored that.
    private static func stop(_ process: Process, clock: DaemonClock, grace: Double = 5) async {
        guard process.isRunning else { return }
        process.terminate()
        try? await clock.sleep(seconds: grace)
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}
