import Foundation
import MWADTestKit
import Testing

/// `mwad run --once`'s exit status and last line name the real cause: a failure that is
/// not the merge's is named as itself, and the merge is not blamed.
@Suite struct ExitCauseTests {
    let dir = TemporaryDirectory("mwad-exit")

    func once(metrics: String) throws -> MWADProcess.Result {
        let run = dir.file("run")
        if !FileManager.default.fileExists(atPath: run) {
            let writer = TrainerWriter(runDirectory: run)
            for step in [10, 20, 30] { try writer.save(step: step) }
        }
        return try MWADProcess.run(["run", "--once", "--watch", run, "--out", dir.file("merged"), "--ledger", dir.file("state/ledger.sqlite")],
                                   environment: ProcessInfo.processInfo.environment.merging(["MWAD_METRICS_TEXTFILE": metrics]) { $1 })
    }

    /// The metrics file's folder is made, as the output's is.
    @Test func aMissingMetricsFolderIsMade() throws {
        let metrics = dir.file("node-exporter/textfiles/mwad.prom")
        let result = try once(metrics: metrics)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try String(contentsOfFile: metrics, encoding: .utf8).contains("mwad_last_step"))
    }

    /// A metrics file that cannot be written fails the run, and the last line says so,
    /// not that the merge is wrong.
    @Test func aMetricsFileThatCannotBeWrittenIsNamedNotTheMerge() throws {
        let blocker = dir.file("a-file")
        FileManager.default.createFile(atPath: blocker, contents: Data("x".utf8))
        let result = try once(metrics: "\(blocker)/mwad.prom")
        #expect(result.status == 1)
        let last = result.stderr.split(separator: "\n").last.map(String.init) ?? ""
        #expect(last.hasPrefix("mwad: error: the published merge reflects \(dir.file("run")), but cannot write the metrics file \(blocker)/mwad.prom"), "\(result.stderr)")
        #expect(!result.stderr.contains("does not reflect"))
    }
}
