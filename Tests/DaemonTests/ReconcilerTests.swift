import Foundation
@testable import Daemon
import Ingest
import Ledger
import Logging
import Merge
import MWADTestKit
import Testing
import Settings
import Weigh

/// The reconciler in process: a real run directory and retained store, an in-memory
/// ledger, and the clock given to each pass.
@Suite struct ReconcilerTests {
    let dir = TemporaryDirectory("mwad-reconciler")
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)
    var run: String { dir.file("run") }

    func make(_ ledger: Ledger, clock: @escaping @Sendable () -> Date = { Date(timeIntervalSince1970: 1_800_000_000) }) -> Reconciler {
        let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
        let store = RetainedStore(stateDirectory: dir.file("state"))
        let reporter = FailureReporter(ledger: ledger, logger: logger)
        let settings = MergeSettings()
        return Reconciler(directory: run, layout: .huggingFace,
                          ingestor: CheckpointIngestor(settings: settings, layout: .huggingFace, store: store,
                                                       settleTime: 10, clock: clock),
                          ledger: ledger,
                          recorder: Recorder(ledger: ledger, store: store, logger: logger, reporter: reporter, settings: settings),
                          reporter: reporter)
    }

    @Test func ingestsCompleteCheckpointsAndWaitsForIncompleteOnes() throws {
        let ledger = try Ledger.inMemory()
        let writer = TrainerWriter(runDirectory: run)
        try writer.save(step: 10)
        try writer.save(step: 20)
        try FileManager.default.removeItem(atPath: "\(run)/checkpoint-20/trainer_state.json")  // still being written
        var sightings = Sightings()
        let pass = make(ledger).pass(sightings: &sightings, now: t0)
        #expect(pass.changed && !pass.failed)
        #expect(pass.waiting == ["checkpoint-20": "trainer_state.json was not written yet"])
        #expect(try ledger.checkpoints().map(\.step) == [10])
        #expect(try ledger.checkpoints()[0].retainedPath != nil)
        #expect(sightings.pending.keys.sorted() == ["checkpoint-20"])
        // Nothing new: nothing written.
        let again = make(ledger).pass(sightings: &sightings, now: t0.addingTimeInterval(1))
        #expect(!again.changed)
    }

    /// A pass that began before the trainer's last write dates the row by the files, so
    /// later passes see them unchanged instead of copying them again each time.
    @Test func aRowIsNeverDatedBeforeTheFilesItWasReadFrom() throws {
        let ledger = try Ledger.inMemory()
        try TrainerWriter(runDirectory: run).save(step: 10)
        var sightings = Sightings()
        let early = Date(timeIntervalSince1970: 1_700_000_000)  // before the files were written
        _ = make(ledger).pass(sightings: &sightings, now: early)
        let row = try #require(try ledger.checkpoints().first)
        let written = try #require(FileTimes.modified("\(run)/checkpoint-10/trainer_state.json"))
        #expect(row.discoveredAt >= written.addingTimeInterval(-0.001))
    }

    /// ingested_at is when the copy was retained, not when the pass began (it was always
    /// equal to discovered_at).
    @Test func ingestedAtIsWhenTheCopyFinished() throws {
        let ledger = try Ledger.inMemory()
        try TrainerWriter(runDirectory: run).save(step: 10)
        var sightings = Sightings()
        let copied = t0.addingTimeInterval(2.5)
        _ = make(ledger, clock: { copied }).pass(sightings: &sightings, now: t0)
        let row = try #require(try ledger.checkpoints().first)
        #expect(row.discoveredAt == t0 && row.ingestedAt == copied, "\(row)")
    }

    /// A folder seen incomplete and then deleted by rotation is recorded as missed.
    @Test func aFolderDeletedBeforeItWasCompleteIsMissed() throws {
        let ledger = try Ledger.inMemory()
        try TrainerWriter(runDirectory: run).save(step: 10)
        try FileManager.default.removeItem(atPath: "\(run)/checkpoint-10/trainer_state.json")
        var sightings = Sightings()
        _ = make(ledger).pass(sightings: &sightings, now: t0)
        try FileManager.default.removeItem(atPath: "\(run)/checkpoint-10")
        let pass = make(ledger).pass(sightings: &sightings, now: t0.addingTimeInterval(0.14))
        #expect(pass.changed)
        let row = try #require(try ledger.checkpoints().first)
        #expect(row.status == .missed && row.step == 10 && row.vanishedAt != nil)
        #expect(row.reason == "\(run)/checkpoint-10 was deleted within 140 ms of appearing, while mwad waited: trainer_state.json was not written yet (save_total_limit rotated it away faster than mwad could copy it)")
        #expect(sightings.pending.isEmpty)
    }

    /// An inotify event named a folder that was gone again before any pass could list it.
    @Test func aFolderOnlyAnEventSawIsMissedToo() throws {
        let ledger = try Ledger.inMemory()
        try FileManager.default.createDirectory(atPath: run, withIntermediateDirectories: true)
        var sightings = Sightings()
        _ = make(ledger).pass(sightings: &sightings, appeared: ["checkpoint-30", "tmp-checkpoint-40"], now: t0)
        let row = try #require(try ledger.checkpoints().first)
        #expect(try ledger.checkpoints().count == 1)
        #expect(row.status == .missed && row.step == 30)
        #expect(row.reason?.contains("before mwad could look into it") == true)
    }

    /// A missed step that shows up again (the trainer wrote it anew) is ingested in its row.
    @Test func aMissedCheckpointThatComesBackIsIngestedInItsRow() throws {
        let ledger = try Ledger.inMemory()
        try FileManager.default.createDirectory(atPath: run, withIntermediateDirectories: true)
        var sightings = Sightings()
        _ = make(ledger).pass(sightings: &sightings, appeared: ["checkpoint-10"], now: t0)
        let id = try ledger.checkpoints()[0].id
        try TrainerWriter(runDirectory: run).save(step: 10)
        _ = make(ledger).pass(sightings: &sightings, now: t0.addingTimeInterval(1))
        #expect(try ledger.checkpoints().map(\.status) == [.ingested])
        #expect(try ledger.checkpoints()[0].id == id)
    }

    @Test func rejectionsNameTheTrainersFolderNotTheStagingCopy() throws {
        let ledger = try Ledger.inMemory()
        let writer = TrainerWriter(runDirectory: run)
        try writer.save(step: 10)
        try writer.save(step: 20)
        let adapter = "\(run)/checkpoint-20/adapter_model.safetensors"
        try FileManager.default.removeItem(atPath: adapter)
        try TestAdapter.write([TestAdapter.Tensor("base_model.x.lora_A.weight", [1, .nan])], to: adapter)
        var sightings = Sightings()
        _ = make(ledger).pass(sightings: &sightings, now: t0)
        let rejected = try #require(try ledger.checkpoints().first { $0.status == .rejected })
        #expect(rejected.reason?.contains("\(run)/checkpoint-20") == true, "\(rejected.reason ?? "")")
        #expect(rejected.reason?.contains(".staging-") == false)
    }
}

/// When the loop lets the merge run: ingest is never delayed, the merge waits out a burst.
@Suite struct MergeScheduleTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func dueOnceABurstIsQuietOrTooLong() {
        var schedule = MergeSchedule(debounce: 0.5)
        #expect(schedule.isDue(at: t0))  // nothing pending
        schedule.activity(at: t0)
        #expect(!schedule.isDue(at: t0.addingTimeInterval(0.4)))
        #expect(schedule.isDue(at: t0.addingTimeInterval(0.5)))
        // A steady stream every 0.3 s: due 5 s after the burst began, not later.
        for tick in 1...20 { schedule.activity(at: t0.addingTimeInterval(0.3 * Double(tick))) }
        #expect(schedule.secondsUntilDue(at: t0.addingTimeInterval(4.9)) < 0.11)
        #expect(schedule.isDue(at: t0.addingTimeInterval(5)))
        schedule.merged()
        #expect(schedule.burstStart == nil && schedule.isDue(at: t0.addingTimeInterval(5)))
    }
}
