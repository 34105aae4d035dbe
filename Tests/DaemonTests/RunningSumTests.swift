import Foundation
import Logging
import Ledger
import Daemon
import MWADTestKit
import Testing

/// When the daemon updates its running window sum, and when it recomputes it exactly.
@Suite struct RunningSumTests {
    /// One pass of `mwad run --once`, in process, after saving `step`; returns how
    /// the merge was made (`exact`, `incremental`, or the line that says otherwise).
    func pass(_ live: LiveRun, step: Int, window: Int = 3, environment: [String: String] = [:]) async throws -> String {
        try TrainerWriter(runDirectory: live.run).save(step: step)
        let lines = try await Self.runOnce(live, window: window, environment: environment)
        guard let line = lines.first(where: { $0.contains("published merge") }) else { return "none" }
        return line.contains(", exact)") ? "exact" : line.contains(", incremental: +1 −1)") ? "incremental" : line
    }

    /// `mwad run --once` in process: the log's lines.
    static func runOnce(_ live: LiveRun, window: Int, environment: [String: String] = [:]) async throws -> [String] {
        let config = try await ConfigLoader.load(file: nil, environment: LiveRun.linearSettings.merging(environment) { $1 }, flags: [
            "watch.directory": live.run, "output": live.output, "ledger": live.ledger, "merge.window": "\(window)",
            "state_directory": environment["MWAD_STATE_DIRECTORY"] ?? live.dir.file("state"),
        ])
        let log = LogLines()
        let engine = DaemonEngine(config: config, ledger: try Ledger(path: config.ledger), logger: Logger(label: "mwad") { _ in log },
                                  notifier: SystemdNotifier(environment: [:]))
        let outcome = await engine.runOnce()
        #expect(outcome.failures.isEmpty && outcome.reflected, "\(log.all)")
        return log.all
    }

    @Test func exactAtFirstEveryKUpdatesAndWhenTheSavedSumIsGone() async throws {
        let live = try LiveRun()
        let every = ["MWAD_MERGE_RECOMPUTE_EVERY": "2", "MWAD_STATE_DIRECTORY": live.dir.file("state-dir"), "MWAD_MERGE_RUNNING_SUM": "always"]
        #expect(try await pass(live, step: 10, environment: every) == "exact")
        _ = try await pass(live, step: 20, environment: every)
        _ = try await pass(live, step: 30, environment: every)
        #expect(try await pass(live, step: 40, environment: every) == "exact")  // state: exact, +1, +2, then recompute
        #expect(try await pass(live, step: 50, environment: every) == "incremental")
        #expect(try await pass(live, step: 60, environment: every) == "incremental")
        #expect(try await pass(live, step: 70, environment: every) == "exact")
        try FileManager.default.removeItem(atPath: live.dir.file("state-dir/window-sum.safetensors"))
        #expect(try await pass(live, step: 80, environment: every) == "exact")
        #expect(try await pass(live, step: 90, environment: every) == "incremental")
        // A saved sum that does not match the published window is not trusted.
        let saved = live.dir.file("state-dir/window-sum.safetensors")
        for file in [saved, saved + ".check"] { try FileManager.default.copyItem(atPath: file, toPath: file + ".old") }
        #expect(try await pass(live, step: 100, environment: every) == "incremental")
        for file in [saved, saved + ".check"] {
            try FileManager.default.removeItem(atPath: file)
            try FileManager.default.moveItem(atPath: file + ".old", toPath: file)
        }
        #expect(try await pass(live, step: 110, environment: every) == "exact")
        #expect(try await pass(live, step: 120, environment: every) == "incremental")
        // The sum is not fsynced: a power cut may leave a block of it zeroed. Its
        // checksum no longer matches, so it is recomputed.
        let handle = try #require(FileHandle(forUpdatingAtPath: saved))
        try handle.seek(toOffset: try handle.seekToEnd() - 4096)
        try handle.write(contentsOf: Data(count: 4096))
        try handle.close()
        #expect(try await pass(live, step: 130, environment: every) == "exact")
        // The published merge still matches a clean merge of the window.
        let snapshot = try #require(live.snapshot())
        let retained = snapshot.members.compactMap { snapshot.checkpoint(id: $0.checkpointID)?.retainedPath }
        let reference = live.dir.file("reference")
        #expect(try MWADProcess.run(["merge", "--method", "linear", "--weighting", "loss", "--checkpoints"] + retained + ["--out", reference]).status == 0)
        #expect(try TestAdapter.deviation("\(live.output)/adapter_model.safetensors", "\(reference)/adapter_model.safetensors") <= 1e-6)
    }
}

/// `merge.running_sum: auto`: each update takes whichever costs less.
@Suite struct RunningSumPolicyTests {
    /// F32 adapters: the sum is twice the adapter.
    let adapter: Int64 = 100, sum: Int64 = 200

    @Test func theFullMergeUpToWindow12AndTheSumFrom13() {
        let auto = RunningSumPolicy.auto
        // Steady state, one in and one out: reads 4A, writes 2A to the page cache and A
        // to disk; the full merge reads W·A and writes A to disk.
        #expect(!auto.useSum(window: 5, adding: 1, removing: 1, adapter: adapter, sum: sum, previous: true))
        #expect(!auto.useSum(window: 12, adding: 1, removing: 1, adapter: adapter, sum: sum, previous: true))
        #expect(auto.useSum(window: 13, adding: 1, removing: 1, adapter: adapter, sum: sum, previous: true))
        #expect(auto.useSum(window: 20, adding: 1, removing: 1, adapter: adapter, sum: sum, previous: true))
        #expect(RunningSumPolicy.sumCost(window: 50, adding: 1, removing: 1, adapter: adapter, sum: sum, previous: true)
                == 4 * adapter + 2 * adapter * RunningSumPolicy.writeWeight + adapter * RunningSumPolicy.durableWriteWeight)
        // No saved sum: made only where later updates through it pay off.
        #expect(!auto.useSum(window: 12, adding: 12, removing: 0, adapter: adapter, sum: sum, previous: false))
        #expect(auto.useSum(window: 13, adding: 13, removing: 0, adapter: adapter, sum: sum, previous: false))
        // Many in at once (a burst): a full merge is cheaper than the sum.
        #expect(!auto.useSum(window: 30, adding: 15, removing: 15, adapter: adapter, sum: sum, previous: true))
        #expect(RunningSumPolicy.always.useSum(window: 2, adding: 1, removing: 1, adapter: adapter, sum: sum, previous: true))
        #expect(!RunningSumPolicy.never.useSum(window: 50, adding: 1, removing: 1, adapter: adapter, sum: sum, previous: true))
    }

    /// The daemon, with the default policy: full merges at window 5, the sum at window 25.
    @Test func theDaemonChoosesByTheWindow() async throws {
        let live = try LiveRun()
        let writer = TrainerWriter(runDirectory: live.run)
        for step in stride(from: 10, through: 250, by: 10) { try writer.save(step: step) }
        var lines: [String: [String]] = [:]
        for (window, steps) in [(5, [260, 270]), (25, [280, 290, 300])] {
            for step in steps {
                try writer.save(step: step)
                lines["\(window)", default: []] += try await RunningSumTests.runOnce(live, window: window).filter { $0.contains("published merge") }
            }
        }
        #expect(lines["5"]?.count == 2 && lines["5"]?.allSatisfy { $0.contains(", full)") } == true, "\(lines["5"] ?? [])")
        #expect(lines["25"]?.first?.contains(", exact)") == true, "\(lines["25"] ?? [])")
        #expect(lines["25"]?.dropFirst().allSatisfy { $0.contains(", incremental: +1 −1)") } == true, "\(lines["25"] ?? [])")
    }
}
