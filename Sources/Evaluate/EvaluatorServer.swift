import Foundation
import HostFileSystem
import Logging

/// The running evaluator of `eval.mode: persistent`: one child process (through `env
/// --default-signal`, at the configured niceness, `MWAD_EVAL_PROTOCOL=jsonl` in its
/// environment), a request per line on its stdin, answers read from its stdout by
/// `id`. Lines that answer nothing are logged at debug; its stderr goes to the log,
/// the last lines kept for error messages. Thread-safe: readers run on threads of
/// their own and hand each answer to the request waiting for it.
final class EvaluatorServer: @unchecked Sendable {
    enum Reply: Sendable, Equatable {
        /// The answer's line, a JSON object with the request's `id`.
        case answer(String)
        case timedOut
        /// The process ended: how, with its last stderr lines.
        case exited(String)
    }

    private let process = Process()
    private let input = Pipe(), output = Pipe(), errors = Pipe()
    private let logger: Logger
    private let lock = NSLock()
    private var waiting: [String: CheckedContinuation<Reply, Never>] = [:]
    private var ending: String?
    private var stderrTail: [String] = []
    /// How many requests it answered since it started.
    private(set) var answered = 0

    var pid: Int32 { process.processIdentifier }

    /// Starts `argv`; throws when it cannot be started at all.
    init(argv: [String], logger: Logger) throws {
        self.logger = logger
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["--default-signal"] + argv
        process.environment = ProcessInfo.processInfo.environment.merging(["MWAD_EVAL_PROTOCOL": "jsonl"]) { $1 }
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        process.terminationHandler = { [weak self] process in self?.ended(process) }
        try process.run()
        Self.readLines(output.fileHandleForReading.fileDescriptor) { [weak self] in self?.received($0) }
        Self.readLines(errors.fileHandleForReading.fileDescriptor) { [weak self] in self?.logged($0) }
    }

    /// Sends `line` as request `id` and waits for its answer, at most `timeout` s.
    func ask(id: String, line: String, timeout: Double) async -> Reply {
        await withCheckedContinuation { (continuation: CheckedContinuation<Reply, Never>) in
            lock.lock()
            if let ending {
                lock.unlock()
                continuation.resume(returning: .exited(ending))
                return
            }
            waiting[id] = continuation
            lock.unlock()
            // A closed stdin means it is exiting: its termination answers the request.
            Posix.writeAll(input.fileHandleForWriting.fileDescriptor, line + "\n")
            // A timer of its own (not a task): it fires even while the cooperative
            // pool is busy.
            DispatchQueue.global().asyncAfter(deadline: .now() + timeout) { [weak self] in self?.resume(id, with: .timedOut) }
        }
    }

    /// Kills it at once (a request past its timeout) and waits for its end.
    func kill() {
        Glibc.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// Asks it to finish (stdin closed: EOF), then SIGTERM after 5 s, SIGKILL 5 s later.
    func stop() async {
        try? input.fileHandleForWriting.close()
        for signal in [SIGTERM, SIGKILL] {
            for _ in 0..<50 where process.isRunning { try? await Task.sleep(for: .milliseconds(100)) }
            if process.isRunning { Glibc.kill(process.processIdentifier, signal) }
        }
        process.waitUntilExit()
    }

    private func resume(_ id: String, with reply: Reply) {
        lock.lock()
        let continuation = waiting.removeValue(forKey: id)
        if continuation != nil, case .answer = reply { answered += 1 }
        lock.unlock()
        continuation?.resume(returning: reply)
    }

    private func received(_ line: String) {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any],
              let id = object["id"] as? String else {
            logger.debug("evaluator (pid \(pid)) printed a line that answers no request: \(line.prefix(200))")
            return
        }
        lock.lock()
        let known = waiting[id] != nil
        lock.unlock()
        if known { resume(id, with: .answer(line)) } else { logger.debug("evaluator (pid \(pid)) answered request \(id), which no longer waits") }
    }

    private func logged(_ line: String) {
        lock.lock()
        stderrTail = Array((stderrTail + [line]).suffix(5))
        lock.unlock()
        logger.info("evaluator: \(line)")
    }

    private func ended(_ process: Process) {
        // The stderr reader may still hold the last lines: give it a moment.
        usleep(50_000)
        let how = process.terminationReason == .exit ? "exit status \(process.terminationStatus)" : "killed by signal \(process.terminationStatus)"
        lock.lock()
        let tail = stderrTail.isEmpty ? "" : "; stderr: " + stderrTail.joined(separator: " | ")
        ending = how + tail
        let all = waiting
        waiting = [:]
        lock.unlock()
        for continuation in all.values { continuation.resume(returning: .exited(how + tail)) }
    }

    /// Reads `fd` line by line on a thread of its own until EOF.
    private static func readLines(_ fd: Int32, _ line: @escaping @Sendable (String) -> Void) {
        Thread {
            var pending = [UInt8]()
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if count < 0, errno == EINTR { continue }
                guard count > 0 else { break }
                pending += buffer[..<count]
                while let newline = pending.firstIndex(of: 0x0A) {
                    let text = String(decoding: pending[..<newline], as: UTF8.self).trimmingCharacters(in: .whitespaces)
                    pending.removeSubrange(...newline)
                    if !text.isEmpty { line(text) }
                }
            }
        }.start()
    }
}
