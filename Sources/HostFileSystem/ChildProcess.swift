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
    /// given files (else nowhere), and returns how it ended.
    public static func run(_ argv: [String], environment: [String: String], stdout: String? = nil, stderr: String? = nil,
                           timeout: Double) async -> Ending {
        guard Posix.executable(argv[0]) != nil else { return .failedToStart("\(argv[0]): no such executable") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["--default-signal"] + argv
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardInput = FileHandle.nullDevice
        let exited = AsyncStream<Void>.makeStream()
        process.terminationHandler = { _ in exited.continuation.finish() }
        do {
            process.standardOutput = try stdout.map { try FileHandle(forWritingTo: URL(fileURLWithPath: $0)) } ?? FileHandle.nullDevice
            process.standardError = try stderr.map { try FileHandle(forWritingTo: URL(fileURLWithPath: $0)) } ?? FileHandle.nullDevice
            try process.run()
        } catch {
            return .failedToStart(error.localizedDescription)
        }
        let killer = Task {
            guard (try? await Task.sleep(for: .seconds(timeout))) != nil else { return false }
            process.terminate()
            for _ in 0..<50 where process.isRunning { try? await Task.sleep(for: .milliseconds(100)) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }  // it ignored SIGTERM
            return true
        }
        await withTaskCancellationHandler {
            for await _ in exited.stream {}
        } onCancel: {
            process.terminate()
        }
        killer.cancel()
        let timedOut = await killer.value
        // A cancelled wait ends before the process does: 5 s after SIGTERM, SIGKILL.
        for _ in 0..<50 where process.isRunning { usleep(100_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        if timedOut { return .timedOut }
        return process.terminationReason == .exit ? .exited(process.terminationStatus) : .signalled(process.terminationStatus)
    }
}
