import Daemon
import Foundation
import Ledger
import Logging
import MWADTestKit
import Testing

/// The daemon's loop in process, on an in-memory ledger: the directory appears after
/// the start, checkpoints arrive with rotation, and a stop request ends it cleanly.
@Suite struct DaemonLoopTests {
    @Test func followsARunDirectoryThatAppearsAfterTheStart() async throws {
        let dir = TemporaryDirectory("mwad-loop")
        let run = dir.file("later/run")
        let config = try await ConfigLoader.load(file: nil, environment: [:], flags: [
            "watch.directory": run, "output": dir.file("merged"), "state_directory": dir.file("state"),
            "ledger": dir.file("state/ledger.sqlite"), "watch.debounce": "0.2", "merge.window": "3",
        ])
        let ledger = try Ledger.inMemory()
        let engine = DaemonEngine(config: config, ledger: ledger, logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() },
                                  notifier: SystemdNotifier(environment: [:]))
        let loop = Task { await engine.run() }
        defer { loop.cancel() }
        try await Task.sleep(for: .milliseconds(200))
        // Two levels below an existing folder: the loop follows the creation down.
        try FileManager.default.createDirectory(atPath: run, withIntermediateDirectories: true)
        let writer = TrainerWriter(runDirectory: run, saveTotalLimit: 1)
        for step in stride(from: 10, through: 50, by: 10) {
            try writer.save(step: step)
            try await Task.sleep(for: .milliseconds(150))
        }
        let merged = await waitUntil {
            guard let snapshot = try? ledger.snapshot(), let last = snapshot.members.last else { return false }
            return snapshot.checkpoint(id: last.checkpointID)?.step == 50
        }
        #expect(merged)
        engine.requestStop()
        await loop.value
        let snapshot = try ledger.snapshot()
        #expect(snapshot.checkpoints.map(\.step) == [10, 20, 30, 40, 50])
        #expect(snapshot.checkpoints.allSatisfy { $0.status == .ingested || $0.status == .evicted }, "\(snapshot.checkpoints)")
        #expect(snapshot.memberIDs.count == 3)
        #expect(snapshot.daemon?.stoppedAt != nil)
    }

    func waitUntil(timeout: Double = 30, _ condition: () -> Bool) async -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return condition()
    }
}
