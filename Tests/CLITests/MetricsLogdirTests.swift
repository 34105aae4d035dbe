import Foundation
import MWADTestKit
import Testing

/// kohya's `--logging_dir` (and ai-toolkit's `log_dir`) may be anywhere: `metrics.logdir`
/// (`--metrics-logdir`) says where, absolute or in the run, and `tensorboard.logdir:
/// auto` then writes mwad's scores beside the trainer's.
@Suite struct MetricsLogdirTests {
    let dir = TemporaryDirectory()

    /// The kohya fixture with its TensorBoard folder moved out of the run to `logs`.
    func run(logsAt logs: String) throws -> String {
        let run = dir.file("run")
        try FileManager.default.copyItem(atPath: "\(Fixtures.root)/flat-kohya", toPath: run)
        try FileManager.default.createDirectory(atPath: (logs as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try FileManager.default.moveItem(atPath: "\(run)/logs", toPath: logs)
        return run
    }

    func members(_ json: String) throws -> [[String: Any]] {
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        return try #require(object["members"] as? [[String: Any]])
    }

    @Test(arguments: [true, false])
    func theLossIsReadWhereTheLogIs(absolute: Bool) throws {
        let logs = absolute ? dir.file("elsewhere/tb") : dir.file("run/tb")
        let run = try run(logsAt: logs)
        let given = absolute ? logs : "tb"
        let merge = ["merge", run, "--out", dir.file("out"), "--weighting", "loss", "--window", "2", "--json"]
        let lost = try MWADProcess.run(merge)
        #expect(lost.status != 0 && lost.stderr.contains("no train_loss logged"), "without it: \(lost.stderr)")
        let found = try MWADProcess.run(merge + ["--metrics-logdir", given])
        #expect(found.status == 0, "\(found.stderr)")
        let expected = try MWADProcess.run(["merge", "\(Fixtures.root)/flat-kohya", "--out", dir.file("reference"), "--weighting", "loss", "--window", "2", "--json"])
        let values = try members(found.stdout).map { $0["metric"] as? Double }
        #expect(values == (try members(expected.stdout).map { $0["metric"] as? Double }) && values.allSatisfy { $0 != nil }, "the same losses")

        // The daemon, from its configuration's environment; its own scores go beside the trainer's.
        let daemon = try MWADProcess.run(["run", "--watch", run, "--out", dir.file("daemon-out"), "--ledger", dir.file("l/ledger.sqlite"), "--once",
                                          "--weighting", "loss", "--window", "2", "--tensorboard-logdir", "auto"],
                                         environment: ["MWAD_METRICS_LOGDIR": given, "XDG_STATE_HOME": dir.file("xdg")])
        #expect(daemon.status == 0, "\(daemon.stderr)")
        let events = try FileManager.default.contentsOfDirectory(atPath: "\(logs)/mwad")
        #expect(events.contains { $0.hasPrefix("events.out.tfevents.") }, "\(events)")
        let status = try MWADProcess.run(["status", "--ledger", dir.file("l/ledger.sqlite")])
        #expect(status.stdout.contains("train_loss"), "\(status.stdout)")
    }
}
