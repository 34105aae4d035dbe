import Foundation
import HostFileSystem
import Logging

/// Runs the configured `on_merge` command after a publish: argv as given (never a
/// shell), with `MWAD_OUTPUT`, `MWAD_STEP` and `MWAD_MERGE_ID` in its environment,
/// killed after a timeout. Its outcome is a short text for the ledger.
struct MergeHook: Sendable {
    let argv: [String]
    let timeout: Double

    func run(output: String, step: Int64, mergeID: Int64) async -> String {
        guard Posix.executable(argv[0]) != nil else { return "failed to start: \(argv[0]): no such executable" }
        let process = Process()
        // Signals the daemon ignores (SIGTERM, SIGPIPE) would stay ignored in the hook:
        // env --default-signal restores them, so that the timeout's SIGTERM works.
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["--default-signal"] + argv
        var environment = ProcessInfo.processInfo.environment
        environment["MWAD_OUTPUT"] = output
        environment["MWAD_STEP"] = "\(step)"
        environment["MWAD_MERGE_ID"] = "\(mergeID)"
        process.environment = environment
        process.standardInput = FileHandle.nullDevice
        let exited = AsyncStream<Void>.makeStream()
        process.terminationHandler = { _ in exited.continuation.finish() }
        do { try process.run() } catch {
            return "failed to start: \(error.localizedDescription)"
        }
        let killer = Task {
            guard (try? await Task.sleep(for: .seconds(timeout))) != nil else { return false }
            process.terminate()  // SIGTERM, then SIGKILL if it lingers 5 s
            for _ in 0..<50 where process.isRunning { try? await Task.sleep(for: .milliseconds(100)) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            return true
        }
        for await _ in exited.stream {}
        killer.cancel()
        if await killer.value { return "timed out after \(Int(timeout)) s" }
        switch (process.terminationReason, process.terminationStatus) {
        case (.exit, 0): return "ok"
        case (.exit, let status): return "exit status \(status)"
        case (_, let signal): return "killed by signal \(signal)"
        }
    }
}
