import Foundation
import Ledger
import MWADTestKit
import Synchronization
import Testing

/// The daemon killed with SIGKILL at random moments while a trainer writes 100
/// checkpoints with rotation and a reader keeps reading the published merge.
/// `scripts/crash-test.sh N` runs it longer: N checkpoints, a kill every fifth.
@Suite(.serialized) struct CrashConsistencyTests {
    /// How many checkpoints the trainer writes (MWAD_CRASH_CHECKPOINTS, at least 100).
    static let checkpoints = max(100, Int(ProcessInfo.processInfo.environment["MWAD_CRASH_CHECKPOINTS"] ?? "") ?? 100)

    @Test func killedTwentyTimesItLosesNothingAndNeverPublishesATornMerge() throws {
        let count = Self.checkpoints
        let last = Int64(count * 10)
        let live = try LiveRun()
        var generator = SystemRandomNumberGenerator()
        // The running sum forced: at window 5 the daemon would merge afresh, and the
        // sum's own crash path (saved after the merge is published) must stay covered.
        var daemon = try live.start(["--window", "5"], environment: ["MWAD_WATCH_DEBOUNCE": "0.05", "MWAD_MERGE_RUNNING_SUM": "always"])

        // A reader, all along.
        let stop = Atomic<Bool>(false)
        let reads = Mutex<(whole: Int, torn: [String])>((0, []))
        let readerDone = DispatchSemaphore(value: 0)
        let output = live.output
        let reader = Thread {
            defer { readerDone.signal() }
            while !stop.load(ordering: .relaxed) {
                switch OutputReader.read(output) {
                case .whole: reads.withLock { $0.whole += 1 }
                case .absent: break
                case .torn(let why): reads.withLock { $0.torn.append(why) }
                }
                usleep(2_000)
            }
        }
        reader.start()

        let writer = TrainerWriter(runDirectory: live.run, saveTotalLimit: 4)
        var kills = 0
        for index in 1...count {
            try writer.save(step: index * 10)
            guard index % 5 == 0 else {
                usleep(150_000)
                continue
            }
            // A random moment after the save: while it copies, merges, publishes or writes the ledger.
            usleep(UInt32.random(in: 0...250_000, using: &generator))
            #expect(daemon.stop(signal: SIGKILL) == -SIGKILL)
            kills += 1
            daemon = try live.start(["--window", "5"], environment: ["MWAD_WATCH_DEBOUNCE": "0.05", "MWAD_MERGE_RUNNING_SUM": "always"])
        }
        #expect(live.waitForMerge(through: last), "\(daemon.log)")
        #expect(daemon.stop() == 0)
        stop.store(true, ordering: .relaxed)
        readerDone.wait()

        #expect(kills >= count / 5)
        let (whole, torn) = reads.withLock { $0 }
        #expect(torn.isEmpty, "torn reads: \(torn.prefix(3))")
        #expect(whole > 100, "the reader must have read the output often (\(whole))")

        // Every checkpoint recorded exactly once.
        let snapshot = try #require(live.snapshot())
        let current = snapshot.checkpoints.filter { $0.status != .replaced }
        let odd = snapshot.checkpoints.filter { $0.status != .ingested && $0.status != .evicted }
            .map { "\($0.name) \($0.status.rawValue): \($0.reason ?? "")" }
        #expect(current.map(\.step).sorted() == (1...count).map { Int64($0 * 10) }, "\(odd)\n\(daemon.log)")
        #expect(odd.isEmpty, "\(odd)")

        // The published merge equals a clean merge of the last five retained copies.
        let retained = snapshot.members.compactMap { snapshot.checkpoint(id: $0.checkpointID)?.retainedPath }
        #expect(snapshot.members.compactMap { snapshot.checkpoint(id: $0.checkpointID)?.step } == (0..<5).map { last - 40 + Int64($0) * 10 })
        let reference = live.dir.file("reference")
        #expect(try MWADProcess.run(["merge", "--method", "linear", "--weighting", "loss", "--checkpoints"] + retained + ["--out", reference]).status == 0)
        #expect(try TestAdapter.deviation("\(live.output)/adapter_model.safetensors", "\(reference)/adapter_model.safetensors") <= 1e-6)

        // No temporary file left anywhere.
        let leftovers = try FileManager.default.subpathsOfDirectory(atPath: live.dir.path)
            .filter { $0.contains("mwad-staging") || $0.contains("mwad-old") || $0.contains(".staging-") || $0.contains(".tmp-") }
        #expect(leftovers.isEmpty, "\(leftovers)")
        let stateHome = live.dir.file("state/retained")  // beside the ledger
        #expect((try FileManager.default.contentsOfDirectory(atPath: stateHome)).count == 5)
        let lost = count - Set(current.map(\.step)).count
        print("crash test: \(count) checkpoints, \(kills) SIGKILLs survived, \(whole) whole reads, \(torn.count) torn, \(lost) rows lost")
    }
}
