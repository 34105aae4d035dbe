import Foundation
import Ingest
import MWADTestKit
import Testing

@Suite struct RunDirectoryTests {
    @Test func ordersCheckpointsByNumberNotName() throws {
        let dir = TemporaryDirectory()
        for name in ["checkpoint-100", "checkpoint-9", "checkpoint-10", "tmp-checkpoint-110", "runs"] {
            try FileManager.default.createDirectory(atPath: dir.file(name), withIntermediateDirectories: true)
        }
        let run = try RunDirectory.scan(dir.path, layout: .huggingFace)
        #expect(run.checkpoints.map(\.step) == [9, 10, 100])
        #expect(run.checkpoints.map(\.name) == ["checkpoint-9", "checkpoint-10", "checkpoint-100"])
        #expect(run.skipped.isEmpty)
    }

    @Test func reportsWhatItPassesOver() throws {
        let dir = TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: dir.file("checkpoint-abc"), withIntermediateDirectories: true)
        dir.write("checkpoint-5", "a file, not a folder")
        try FileManager.default.createSymbolicLink(atPath: dir.file("checkpoint-7"), withDestinationPath: "/tmp")
        let run = try RunDirectory.scan(dir.path, layout: .huggingFace)
        #expect(run.checkpoints.isEmpty)
        #expect(run.skipped == [
            SkippedEntry(name: "checkpoint-5", reason: "not a folder"),
            SkippedEntry(name: "checkpoint-7", reason: "symbolic link, not followed"),
            SkippedEntry(name: "checkpoint-abc", reason: "'abc' is not a step number"),
        ])
    }

    @Test func missingRunDirectory() {
        #expect(throws: IngestError.runDirectoryUnreadable(path: "/nonexistent/run", reason: "No such file or directory")) {
            try RunDirectory.scan("/nonexistent/run", layout: .huggingFace)
        }
    }

    @Test func latestCompletePassesOverACheckpointStillBeingWritten() throws {
        let dir = TemporaryDirectory()
        let run = dir.copyRun(Fixtures.f32Run, steps: [50, 60, 70, 80])
        try FileManager.default.removeItem(atPath: "\(run)/checkpoint-80/trainer_state.json")
        let (chosen, passedOver) = try RunDirectory.scan(run, layout: .huggingFace).latestComplete(2, layout: .huggingFace)
        #expect(chosen.map(\.step) == [60, 70])
        #expect(passedOver.map(\.name) == ["checkpoint-80"])
        #expect(passedOver.first?.reason.hasSuffix("trainer_state.json is missing") == true)
    }
}
