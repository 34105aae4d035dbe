import Foundation
import Ingest
import Ledger
import MWADTestKit
import Testing

/// Checkpoints that change or vanish while the running daemon copies them. Adapters
/// here are 16 MiB, so that a copy takes long enough to be caught in the middle.
@Suite(.serialized) struct ChangingCheckpointTests {
    typealias C = CraftedSafeTensors
    static let elements = 4 << 20

    /// A one-tensor F32 adapter of 16 MiB, every value `value`.
    static func bigAdapter(_ value: Float) -> [UInt8] {
        let header = "{\(C.entry("base_model.model.w.lora_A.weight", "F32", [elements], 0, elements * 4))}"
        var data = [UInt8](repeating: 0, count: elements * 4)
        data.withUnsafeMutableBytes { raw in
            for index in 0..<elements { raw.storeBytes(of: value.bitPattern.littleEndian, toByteOffset: index * 4, as: UInt32.self) }
        }
        return C.file(header: header, data: data)
    }

    /// Writes a complete checkpoint with a big adapter in `staging`, returns its folder.
    static func checkpoint(step: Int, in staging: String, value: Float) throws -> String {
        try TrainerWriter(runDirectory: staging).save(step: step)
        let folder = "\(staging)/checkpoint-\(step)"
        try Data(bigAdapter(value)).write(to: URL(fileURLWithPath: "\(folder)/adapter_model.safetensors"))
        return folder
    }

    /// The adapter is replaced at the moment the daemon has it open (seen in
    /// `/proc/PID/fd`): that copy is refused with its reason, and the new file is
    /// then ingested in the same row.
    @Test func anAdapterReplacedWhileBeingReadIsRejectedThenIngested() throws {
        let live = try LiveRun()
        let daemon = try live.start(environment: ["MWAD_WATCH_RECONCILE_INTERVAL": "1"])
        let staging = live.dir.file("staging")
        try FileManager.default.moveItem(atPath: try Self.checkpoint(step: 10, in: staging, value: 1), toPath: "\(live.run)/checkpoint-10")
        #expect(live.waitForMerge(through: 10), "\(daemon.log)")
        let published = try FileDigest.sha256(ofFile: "\(live.output)/adapter_model.safetensors")

        let folder = try Self.checkpoint(step: 20, in: staging, value: 2)
        let replacement = live.dir.file("replacement")
        try Data(Self.bigAdapter(3)).write(to: URL(fileURLWithPath: replacement))
        let replacementSHA = try FileDigest.sha256(ofFile: replacement)
        let target = "\(live.run)/checkpoint-20/adapter_model.safetensors"
        try FileManager.default.moveItem(atPath: folder, toPath: "\(live.run)/checkpoint-20")
        #expect(Self.waitUntilOpen(target, by: daemon.process.processIdentifier), "the daemon never opened \(target)")
        #expect(rename(replacement, target) == 0)

        let reason = "cannot copy: \(target): replaced by another file while being read"
        #expect(daemon.waitForLog("WARNING rejected checkpoint-20: \(reason)"), "\(daemon.log)")
        #expect(try FileDigest.sha256(ofFile: "\(live.output)/adapter_model.safetensors") == published)
        #expect(daemon.process.isRunning)

        #expect(live.waitForMerge(through: 20), "\(daemon.log)")
        let rows = try #require(live.snapshot()).checkpoints.filter { $0.step == 20 }
        #expect(rows.count == 1)
        #expect(rows.first?.status == .ingested)
        #expect(rows.first?.adapterSHA256 == replacementSHA, "the file now in place")
        #expect(daemon.stop() == 0)
    }

    /// `trainer_state.json` written in place while the daemon copies the checkpoint (HF
    /// Trainer does not write it atomically): the checkpoint waits, no warning, and the
    /// write's own event brings the copy that is ingested.
    @Test func aTrainerStateWrittenWhileBeingReadMakesTheCheckpointWait() throws {
        let live = try LiveRun()
        let daemon = try live.start(environment: ["MWAD_WATCH_RECONCILE_INTERVAL": "60"])
        let staging = live.dir.file("staging")
        let folder = try Self.checkpoint(step: 10, in: staging, value: 1)
        let state = "\(live.run)/checkpoint-10/trainer_state.json"
        try FileManager.default.moveItem(atPath: folder, toPath: "\(live.run)/checkpoint-10")
        #expect(Self.waitUntilOpen(state, by: daemon.process.processIdentifier), "the daemon never opened \(state)")
        let handle = try #require(FileHandle(forWritingAtPath: state))  // in place: same inode, new size and time
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("\n".utf8))
        try handle.close()

        #expect(live.waitForMerge(through: 10), "\(daemon.log)")
        #expect(!daemon.log.contains("WARNING rejected checkpoint-10"), "\(daemon.log)")
        let rows = try #require(live.snapshot()).checkpoints.filter { $0.step == 10 }
        #expect(rows.map(\.status) == [.ingested])
        #expect(daemon.stop() == 0)
    }

    /// Waits until process `pid` has `path` open.
    static func waitUntilOpen(_ path: String, by pid: Int32, timeout: Double = 30) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd")) ?? []
            if fds.contains(where: { (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\($0)")) == path }) {
                return true
            }
            usleep(100)
        }
        return false
    }

    /// `save_total_limit` deleting folders the daemon is still copying, at random
    /// moments: each is either copied whole (ingested with its own digest) or not
    /// recorded at all, the daemon carries on, and the next checkpoint is merged.
    @Test func checkpointFoldersDeletedWhileBeingIngested() throws {
        let live = try LiveRun()
        let daemon = try live.start(environment: ["MWAD_WATCH_RECONCILE_INTERVAL": "1", "MWAD_WATCH_DEBOUNCE": "0.02"])
        let staging = live.dir.file("staging")
        var digests: [Int64: String] = [:]
        for step in stride(from: 10, through: 80, by: 10) {
            let folder = try Self.checkpoint(step: step, in: staging, value: Float(step))
            digests[Int64(step)] = try FileDigest.sha256(ofFile: "\(folder)/adapter_model.safetensors")
            try FileManager.default.moveItem(atPath: folder, toPath: "\(live.run)/checkpoint-\(step)")
            usleep(UInt32.random(in: 20_000...150_000))
            try FileManager.default.removeItem(atPath: "\(live.run)/checkpoint-\(step)")
        }
        let last = try Self.checkpoint(step: 90, in: staging, value: 90)
        digests[90] = try FileDigest.sha256(ofFile: "\(last)/adapter_model.safetensors")
        try FileManager.default.moveItem(atPath: last, toPath: "\(live.run)/checkpoint-90")
        #expect(live.waitForMerge(through: 90), "\(daemon.log)")
        #expect(daemon.process.isRunning)

        let rows = try #require(live.snapshot()).checkpoints
        for row in rows {
            if row.status == .ingested {
                #expect(row.adapterSHA256 == digests[row.step], "\(row.name) ingested with another digest")
            } else {
                #expect(row.reason?.contains("\(live.run)/checkpoint-\(row.step)") == true, "\(row.name): \(row.reason ?? "no reason")")
            }
        }
        for member in try #require(live.snapshot()).members {
            let row = try #require(rows.first { $0.id == member.checkpointID })
            let copy = try #require(row.retainedPath)
            #expect(try FileDigest.sha256(ofFile: "\(copy)/adapter_model.safetensors") == digests[row.step], "retained copy of \(row.name)")
        }
        #expect(OutputReader.read(live.output) == .whole)
        #expect(daemon.stop() == 0)
        print("of 8 folders deleted soon after they appeared, \(rows.filter { $0.status == .ingested }.count - 1) were still copied whole; "
              + "\(rows.filter { $0.status == .rejected }.count) rejected; \(rows.filter { $0.status == .missed }.count) missed; \(8 - rows.count + 1) never recorded")
        #expect(rows.count == 9, "every folder the daemon saw has a row")
    }
}
