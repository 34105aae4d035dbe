import Foundation
import HostFileSystem
import Weigh

/// One run of the user's evaluator on one adapter folder: argv as given (never a
/// shell), at the configured niceness, killed after the timeout; its score read from
/// its last stdout line; on failure, the tail of its stderr kept for the ledger.
public struct EvaluatorProcess: Sendable {
    public let settings: EvalSettings
    public let scratch: String

    public init(settings: EvalSettings, scratch: String) {
        self.settings = settings
        self.scratch = scratch
    }

    /// What one evaluation gave.
    public struct Outcome: Sendable {
        public var value: Double?
        public var error: String?
        public var exitStatus: Int32?
        public var started: Date
        public var duration: Double
    }

    /// Evaluates the adapter in `folder`; `environment` adds MWAD_TARGET, MWAD_STEP, ….
    public func evaluate(folder: String, environment extra: [String: String]) async -> Outcome {
        let started = Date()
        guard Posix.executable(settings.command[0]) != nil else {
            return Outcome(error: "failed to start: \(settings.command[0]): no such executable", started: started, duration: 0)
        }
        let out = "\(scratch)/stdout-\(UUID().uuidString)"
        let err = "\(scratch)/stderr-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: out); try? FileManager.default.removeItem(atPath: err) }
        FileManager.default.createFile(atPath: out, contents: nil)
        FileManager.default.createFile(atPath: err, contents: nil)
        let process = Process()
        // env --default-signal: the daemon ignores SIGTERM (swift-service-lifecycle
        // handles it) and SIGPIPE, and ignored signals survive exec; the evaluator
        // must die of SIGTERM when it times out or the daemon stops.
        let argv = ["/usr/bin/env", "--default-signal"]
            + (settings.nice > 0 ? ["nice", "-n", "\(settings.nice)"] : []) + settings.command
        process.executableURL = URL(fileURLWithPath: argv[0])
        process.arguments = Array(argv.dropFirst())
        process.environment = ProcessInfo.processInfo.environment.merging(extra.merging(["MWAD_ADAPTER": folder]) { $1 }) { $1 }
        process.standardInput = FileHandle.nullDevice
        let exited = AsyncStream<Void>.makeStream()
        process.terminationHandler = { _ in exited.continuation.finish() }
        do {
            process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: out))
            process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: err))
            try process.run()
        } catch {
            return Outcome(error: "failed to start /usr/bin/env: \(error.localizedDescription)", started: started,
                           duration: Date().timeIntervalSince(started))
        }
        let timeout = settings.timeout
        let killer = Task {
            guard (try? await Task.sleep(for: .seconds(timeout))) != nil else { return false }
            process.terminate()
            for _ in 0..<50 where process.isRunning { try? await Task.sleep(for: .milliseconds(100)) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            return true
        }
        await withTaskCancellationHandler {
            for await _ in exited.stream {}
        } onCancel: {
            process.terminate()  // the daemon is stopping: do not keep it waiting
        }
        killer.cancel()
        let timedOut = await killer.value
        // Cancelled (the daemon stops), the stream ends before the process: it was sent
        // SIGTERM; give it 5 s, then SIGKILL, and reap it before reading its status.
        for _ in 0..<50 where process.isRunning { usleep(100_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        return outcome(process, timedOut: timedOut, stdout: out, stderr: err, started: started)
    }

    private func outcome(_ process: Process, timedOut: Bool, stdout: String, stderr: String, started: Date) -> Outcome {
        var result = Outcome(started: started, duration: Date().timeIntervalSince(started))
        let tail = Self.tail(stderr)
        let exited = process.terminationReason == .exit
        result.exitStatus = exited ? process.terminationStatus : nil
        if timedOut {
            result.error = "timed out after \(MergeSettings.number(settings.timeout)) s" + tail
        } else if !exited {
            result.error = "killed by signal \(process.terminationStatus)" + tail
        } else if process.terminationStatus != 0 {
            result.error = "exit status \(process.terminationStatus)" + tail
        } else {
            switch ScoreLine.score(in: (try? String(contentsOfFile: stdout, encoding: .utf8)) ?? "", metric: settings.metric) {
            case .success(let value): result.value = value
            case .failure(let error): result.error = "\(error)" + tail
            }
        }
        return result
    }

    /// `; stderr: …` with the last lines of what the evaluator wrote to stderr.
    static func tail(_ path: String) -> String {
        guard let data = FileManager.default.contents(atPath: path), !data.isEmpty else { return "" }
        let text = String(decoding: data.suffix(2000), as: UTF8.self)
        let lines = text.split(whereSeparator: \.isNewline).suffix(5).joined(separator: " | ")
        return "; stderr: \(lines)"
    }
}
