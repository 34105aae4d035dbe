import Foundation
import Ledger
import MWADTestKit
import TensorBoard
import Testing

/// The trainer run again into a directory mwad already watched (run A to step 80, the
/// directory emptied, run B to step 40 with another seed): status, its JSON, the
/// metrics textfile and mwad's TensorBoard scores hold run B's numbers only, and
/// status says once that an earlier run was replaced, from which step.
@Suite(.serialized) struct RestartTests {
    @Test func aSecondRunIntoTheSameDirectoryShowsOnlyItself() throws {
        let live = try LiveRun()
        let prom = live.dir.file("metrics/mwad.prom")
        let board = live.dir.file("tb")
        let daemon = try live.start(environment: ["MWAD_METRICS_TEXTFILE": prom, "MWAD_TENSORBOARD_LOGDIR": board, "MWAD_MERGE_WINDOW": "2"])
        let runA = TrainerWriter(runDirectory: live.run, saveTotalLimit: 3)
        for step in stride(from: 10, through: 80, by: 10) { try runA.save(step: step); usleep(150_000) }
        #expect(live.waitForMerge(through: 80), "\(daemon.log)")
        for name in try FileManager.default.contentsOfDirectory(atPath: live.run) {
            try FileManager.default.removeItem(atPath: "\(live.run)/\(name)")
        }
        usleep(300_000)
        let runB = TrainerWriter(runDirectory: live.run, saveTotalLimit: 3, seed: 3)
        for step in stride(from: 10, through: 40, by: 10) { try runB.save(step: step); usleep(150_000) }
        #expect(DaemonProcess.waitUntil(timeout: 30) {
            live.snapshot()?.checkpoints.filter { $0.status != .replaced }.map(\.step).max() == 40 && live.waitForMerge(through: 40, timeout: 0.1)
        }, "\(daemon.log)")
        #expect(DaemonProcess.waitUntil { (try? String(contentsOfFile: prom, encoding: .utf8))?.contains("mwad_last_step{run=\"\(live.run)\"} 40.0") == true })
        #expect(daemon.stop() == 0)
        #expect(daemon.log.contains("8 checkpoints of the earlier run after step 10") == false, "A's 10 is replaced itself, 20…80 after it")
        #expect(daemon.log.contains("7 checkpoints of the earlier run after step 10 (checkpoint-20 … checkpoint-80) are marked replaced"), "\(daemon.log)")

        // status --json: run B's losses, counts and the earlier run named.
        let json = try MWADProcess.run(["status", "--ledger", live.ledger, "--json"])
        let report = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let losses = try #require(report["losses"] as? [[String: Any]])
        #expect(losses.map { $0["step"] as? Int } == [10, 20, 30, 40], "\(losses)")
        #expect(losses.map { $0["train_loss"] as? Double } == [10, 20, 30, 40].map { TrainerWriter.loss(at: $0) + 0.03 })
        let counts = try #require(report["counts"] as? [String: Any])
        #expect(counts["ingested_total"] as? Int == 4 && counts["replaced"] as? Int == 8, "\(counts)")
        #expect((report["earlier_run"] as? [String: Any])?["from_step"] as? Int == 10, "\(report)")
        #expect(report["schema"] as? Int == 1 && report["schema_minor"] as? Int == 1)

        // The human view: one line for the earlier run, the loss line over run B only.
        let human = try MWADProcess.run(["status", "--ledger", live.ledger]).stdout
        #expect(human.contains("4 ingested (2 in the window, 2 evicted") && human.contains(" · 0 rejected · 0 missed · 8 replaced"), "\(human)")
        #expect(human.contains("an earlier run in this directory was replaced from step 10 (8 of its checkpoints, shown nowhere else)"))
        #expect(human.contains("(steps 10–40)") && human.contains(String(format: "%.6f", TrainerWriter.loss(at: 40) + 0.03)), "\(human)")

        // The metrics textfile: run B's newest step and loss.
        let metrics = try String(contentsOfFile: prom, encoding: .utf8)
        #expect(metrics.contains("mwad_last_step{run=\"\(live.run)\"} 40.0"))
        #expect(metrics.contains("mwad_train_loss{run=\"\(live.run)\"} \(TrainerWriter.loss(at: 40) + 0.03)"), "\(metrics)")
        #expect(metrics.contains("mwad_checkpoints_read{run=\"\(live.run)\"} 4.0"))

        // TensorBoard: a SessionLog START at step 10 follows run A's points, so that its
        // reader drops them (scripts/check-tensorboard.py checks that with TensorBoard).
        let files = try FileManager.default.contentsOfDirectory(atPath: board).filter { $0.hasPrefix("events.out.tfevents") }
        let events = try Self.events(in: "\(board)/\(try #require(files.first))")
        let start = try #require(events.firstIndex { $0.start }, "no restart marker")
        #expect(events[start].step == 10)
        #expect(events[..<start].contains { $0.step == 80 } && !events[(start + 1)...].contains { $0.step > 40 }, "\(events)")
    }

    /// Every record's step, and whether it is a SessionLog START.
    static func events(in path: String) throws -> [(step: Int64, start: Bool)] {
        let reader = try RecordReader(path: path)
        var offset: UInt64 = 0, events: [(step: Int64, start: Bool)] = []
        while case .record(let data, let end) = try reader.next(at: offset) {
            let event = try Tensorboard_Event(serializedBytes: data)
            events.append((event.step, Array(data).ends(with: [0x3A, 0x02, 0x08, 0x01])))
            offset = end
        }
        return events
    }
}

extension Array where Element: Equatable {
    func ends(with suffix: [Element]) -> Bool { count >= suffix.count && Array(self[(count - suffix.count)...]) == suffix }
}
