import Foundation
import Ingest
import Ledger
import MWADTestKit
import SafeTensors
import Testing

/// Hostile checkpoints fed to one running daemon: each is rejected with its exact
/// reason (or, with no step to record, skipped with a log line), the daemon stays up,
/// and the published merge does not change.
@Suite(.serialized) struct BadInputTests {
    typealias C = CraftedSafeTensors

    struct Case: Sendable {
        var name: String
        /// Breaks the complete checkpoint folder it is given.
        var breakIt: @Sendable (String) throws -> Void
        /// Text the ledger's reason must contain.
        var reason: String
    }

    static func adapter(_ folder: String) -> String { "\(folder)/adapter_model.safetensors" }
    static func state(_ folder: String) -> String { "\(folder)/trainer_state.json" }

    static func writeAdapter(_ bytes: [UInt8]) -> @Sendable (String) throws -> Void {
        { folder in try Data(bytes).write(to: URL(fileURLWithPath: adapter(folder))) }
    }

    static func writeState(_ text: String) -> @Sendable (String) throws -> Void {
        { folder in try text.write(toFile: state(folder), atomically: false, encoding: .utf8) }
    }

    /// Removes the adapter and puts something else at its path with `make`.
    static func replaceAdapter(_ make: @escaping @Sendable (String) -> Bool) -> @Sendable (String) throws -> Void {
        { folder in
            try FileManager.default.removeItem(atPath: adapter(folder))
            guard make(adapter(folder)) else { throw CocoaError(.fileWriteUnknown) }
        }
    }

    /// The real adapter with `value` written over its last element.
    static func poisoned(_ value: Float) -> @Sendable (String) throws -> Void {
        { folder in
            var bytes = try Data(contentsOf: URL(fileURLWithPath: adapter(folder)))
            bytes.replaceSubrange((bytes.count - 4)..<bytes.count, with: C.f32([value]))
            try bytes.write(to: URL(fileURLWithPath: adapter(folder)))
        }
    }

    /// Rewrites the real adapter's tensors (zeros) through `change`.
    static func reshaped(_ change: @escaping @Sendable ([TestAdapter.Tensor]) -> [TestAdapter.Tensor]) -> @Sendable (String) throws -> Void {
        { folder in
            let real = try SafeTensorsFile(path: adapter(folder))
            let tensors = real.tensors.map { TestAdapter.Tensor($0.name, Array(repeating: 0, count: $0.elementCount), shape: $0.shape) }
            try FileManager.default.removeItem(atPath: adapter(folder))
            try TestAdapter.write(change(tensors), to: adapter(folder))
        }
    }

    static let one = C.entry("w", "F32", [1], 0, 4)
    static let nested = String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000)

    static let cases: [Case] = [
        Case(name: "empty adapter", breakIt: writeAdapter([]), reason: "is 0 bytes, too small for the 8-byte header length"),
        Case(name: "5-byte adapter", breakIt: writeAdapter([1, 2, 3, 4, 5]), reason: "too small for the 8-byte header length"),
        Case(name: "header over the limit", breakIt: writeAdapter(C.littleEndian(UInt64(100_000_001)) + Array("{}".utf8)), reason: "exceeds the limit of 100000000 bytes"),
        Case(name: "header claiming 2^64-1 bytes", breakIt: writeAdapter(C.littleEndian(UInt64.max) + Array("{}".utf8)), reason: "exceeds the limit"),
        Case(name: "header past the end", breakIt: writeAdapter(C.file(header: "{}", length: 500)), reason: "runs past the end of the 10-byte file"),
        Case(name: "header not UTF-8", breakIt: writeAdapter(C.file(headerBytes: [0x7B, 0xFF, 0x7D])), reason: "header is not valid UTF-8"),
        Case(name: "non-UTF-8 tensor name", breakIt: writeAdapter(C.file(headerBytes: Array("{\"".utf8) + [0xC3, 0x28] + Array("\":{}}".utf8))), reason: "header is not valid UTF-8"),
        Case(name: "header not JSON", breakIt: writeAdapter(C.file(header: "{\"w\": ")), reason: "header is not valid JSON"),
        Case(name: "deeply nested JSON", breakIt: writeAdapter(C.file(header: "{\"w\":\(nested)}")), reason: "header is not valid JSON"),
        Case(name: "header a JSON array", breakIt: writeAdapter(C.file(header: "[1]")), reason: "header is not a JSON object"),
        Case(name: "tensor entry not an object", breakIt: writeAdapter(C.file(header: "{\"w\": 7}")), reason: "tensor 'w': entry is not a JSON object"),
        Case(name: "missing dtype", breakIt: writeAdapter(C.file(header: "{\"w\":{\"shape\":[1],\"data_offsets\":[0,4]}}", data: C.f32([1]))), reason: "missing field 'dtype'"),
        Case(name: "missing shape", breakIt: writeAdapter(C.file(header: "{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", data: C.f32([1]))), reason: "missing field 'shape'"),
        Case(name: "missing data_offsets", breakIt: writeAdapter(C.file(header: "{\"w\":{\"dtype\":\"F32\",\"shape\":[1]}}", data: C.f32([1]))), reason: "missing field 'data_offsets'"),
        Case(name: "negative shape", breakIt: writeAdapter(C.file(header: "{\"w\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", data: C.f32([1]))), reason: "field 'shape' must be an array of non-negative integers"),
        Case(name: "unsupported dtype", breakIt: writeAdapter(C.file(header: "{\(C.entry("w", "I32", [1], 0, 4))}", data: C.f32([1]))), reason: "unsupported dtype 'I32'"),
        Case(name: "offsets backwards", breakIt: writeAdapter(C.file(header: "{\(C.entry("w", "F32", [1], 4, 0))}", data: C.f32([1]))), reason: "end before they begin"),
        Case(name: "shape product overflows", breakIt: writeAdapter(C.file(header: "{\(C.entry("w", "F32", [Int(Int64.max / 2), 4], 0, 4))}", data: C.f32([1]))), reason: "its byte size overflows"),
        Case(name: "span not matching shape", breakIt: writeAdapter(C.file(header: "{\(C.entry("w", "F32", [2], 0, 4))}", data: C.f32([1]))), reason: "need 8"),
        Case(name: "gap between tensors", breakIt: writeAdapter(C.file(header: "{\(C.entry("a", "F32", [1], 0, 4)),\(C.entry("b", "F32", [1], 8, 12))}", data: C.f32([1, 2, 3]))), reason: "leaving a gap"),
        Case(name: "overlapping tensors", breakIt: writeAdapter(C.file(header: "{\(C.entry("a", "F32", [2], 0, 8)),\(C.entry("b", "F32", [1], 4, 8))}", data: C.f32([1, 2]))), reason: "overlapping the previous tensor"),
        Case(name: "trailing bytes", breakIt: writeAdapter(C.file(header: "{\(one)}", data: C.f32([1, 2]))), reason: "4 bytes follow the last tensor's data"),
        Case(name: "metadata not a string map", breakIt: writeAdapter(C.file(header: "{\"__metadata__\":{\"k\":1}}")), reason: "__metadata__ must map strings to strings"),
        Case(name: "truncated real adapter", breakIt: { folder in
            try FileHandle(forWritingTo: URL(fileURLWithPath: adapter(folder))).truncate(atOffset: 5000)
        }, reason: "file is truncated"),
        Case(name: "NaN in a tensor", breakIt: poisoned(.nan), reason: "contains NaN or infinity"),
        Case(name: "infinity in a tensor", breakIt: poisoned(.infinity), reason: "contains NaN or infinity"),
        Case(name: "a tensor missing", breakIt: reshaped { Array($0.dropLast()) }, reason: "but missing from"),
        Case(name: "a shape changed", breakIt: reshaped { tensors in
            var changed = tensors
            changed[0].shape = [changed[0].shape[0] * 2, changed[0].shape[1] / 2]
            return changed
        }, reason: "has shape"),
        Case(name: "a dtype changed", breakIt: reshaped { tensors in
            var changed = tensors
            changed[0].dtype = .bf16
            return changed
        }, reason: "is BF16 in"),
        Case(name: "empty trainer_state.json", breakIt: writeState(""), reason: "trainer_state.json: file is empty"),
        Case(name: "truncated trainer_state.json", breakIt: writeState(#"{"log_history": [{"loss": 3.1, "st"#), reason: "trainer_state.json: not valid JSON"),
        Case(name: "trainer_state.json a JSON array", breakIt: writeState("[1, 2]"), reason: "trainer_state.json: field"),
        Case(name: "log_history of the wrong type", breakIt: writeState(#"{"log_history": {"loss": 1}}"#), reason: "field 'log_history' is not an array"),
        Case(name: "a million tiny tensors", breakIt: writeAdapter(C.tiny(count: 1_000_000)),
             reason: "header lists 1000000 entries, more than the limit of 250000 tensors"),
        Case(name: "trainer_state.json not UTF-8", breakIt: { folder in
            try Data(Array(#"{"log_history": [{"loss": 3.1,"#.utf8) + [0xF8] + Array(#" "step": 1}]}"#.utf8))
                .write(to: URL(fileURLWithPath: state(folder)))
        }, reason: "trainer_state.json: not valid UTF-8 (byte 0xF8 at offset 30)"),
        Case(name: "adapter a FIFO", breakIt: replaceAdapter { mkfifo($0, 0o644) == 0 }, reason: "adapter_model.safetensors: is not a regular file (a FIFO)"),
        Case(name: "adapter a directory", breakIt: replaceAdapter { mkdir($0, 0o755) == 0 }, reason: "adapter_model.safetensors: is not a regular file (a directory)"),
        Case(name: "adapter a symlink to /dev/zero", breakIt: replaceAdapter { symlink("/dev/zero", $0) == 0 },
             reason: "adapter_model.safetensors: is a symbolic link (not followed)"),
        Case(name: "adapter_config.json missing", breakIt: { try FileManager.default.removeItem(atPath: "\($0)/adapter_config.json") }, reason: "adapter_config.json is missing"),
    ]

    /// Sound adapters whose loss the loss weighting cannot use: a checkpoint's validity
    /// does not depend on the merge settings, so each is ingested (and retained); the
    /// merge that would weigh it fails, naming it, and the published merge stands.
    static let unweighable: [Case] = [
        Case(name: "NaN loss", breakIt: writeState(#"{"log_history": [{"loss": NaN, "step": 1}]}"#), reason: "train_loss is nan"),
        Case(name: "negative loss", breakIt: writeState(#"{"log_history": [{"loss": -1.5, "step": 1}]}"#), reason: "train_loss is -1.5"),
        Case(name: "zero loss", breakIt: writeState(#"{"log_history": [{"loss": 0, "step": 1}]}"#), reason: "train_loss is 0.0"),
        Case(name: "no loss logged", breakIt: writeState(#"{"log_history": [{"eval_loss": 3.0, "step": 1}]}"#), reason: "no train_loss logged"),
    ]

    @Test(arguments: unweighable)
    func aLossTheWeightingCannotUseIsAMergeErrorNotARejection(_ bad: Case) throws {
        let live = try LiveRun()
        let daemon = try live.start(environment: ["MWAD_WATCH_SETTLE_TIME": "1"])
        let writer = TrainerWriter(runDirectory: live.run)
        for step in [10, 20] { try writer.save(step: step) }
        #expect(live.waitForMerge(through: 20))
        try live.moveIn(step: 30, prepare: bad.breakIt)
        #expect(daemon.waitForLog("merge failed; the previous merge stays published: "), "\(daemon.log)")
        let row = live.snapshot()?.checkpoints.first { $0.step == 30 }
        #expect(row?.status == .ingested && row?.retainedPath != nil, "\(bad.name): \(String(describing: row))")
        #expect(daemon.log.split(separator: "\n").contains { $0.contains("merge failed") && $0.contains(bad.reason) }, "\(daemon.log)")
        // Recorded in the ledger just after the log line is written.
        #expect(DaemonProcess.waitUntil(timeout: 30) { live.snapshot()?.daemon?.problem?.contains(bad.reason) == true },
                "status shows it: \(String(describing: live.snapshot()?.daemon))")
        #expect(live.snapshot()?.merge?.id == 1)
        #expect(daemon.stop() == 0)
    }

    @Test func everyBadCheckpointIsRejectedWithItsReasonAndTheMergeStands() throws {
        let live = try LiveRun()
        let daemon = try live.start(environment: ["MWAD_WATCH_SETTLE_TIME": "1"])
        let writer = TrainerWriter(runDirectory: live.run)
        for step in [10, 20, 30] { try writer.save(step: step) }
        #expect(live.waitForMerge(through: 30))
        let published = try FileDigest.sha256(ofFile: "\(live.output)/adapter_model.safetensors")
        let staging = live.dir.file("bad")
        try FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: true)

        for (index, bad) in Self.cases.enumerated() {
            let step = 1000 + index * 10
            try TrainerWriter(runDirectory: staging).save(step: step)
            let folder = "\(staging)/checkpoint-\(step)"
            try bad.breakIt(folder)
            try FileManager.default.moveItem(atPath: folder, toPath: "\(live.run)/checkpoint-\(step)")
            var row: CheckpointRecord?
            DaemonProcess.waitUntil(timeout: 30) {
                row = live.snapshot()?.checkpoints.first { $0.step == Int64(step) }
                return row != nil
            }
            #expect(row?.status == .rejected, "\(bad.name): \(String(describing: row))")
            #expect(row?.reason?.contains(bad.reason) == true, "\(bad.name): reason \(row?.reason ?? "none")")
            #expect(daemon.process.isRunning, "\(bad.name) took the daemon down")
        }
        // Folders with no step to record: skipped, with a line in the log.
        try FileManager.default.createDirectory(atPath: "\(live.run)/checkpoint-abc", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: "\(live.run)/checkpoint-99999999999999999999", withIntermediateDirectories: true)
        try TrainerWriter(runDirectory: staging).save(step: 5000)
        try FileManager.default.createSymbolicLink(atPath: "\(live.run)/checkpoint-5000", withDestinationPath: "\(staging)/checkpoint-5000")
        #expect(daemon.waitForLog("skipped checkpoint-abc: 'abc' is not a step number"), "\(daemon.log)")
        #expect(daemon.waitForLog("skipped checkpoint-99999999999999999999: step number 99999999999999999999 does not fit in a 64-bit integer"))
        #expect(daemon.waitForLog("skipped checkpoint-5000: symbolic link, not followed"))
        let skipped = DaemonProcess.waitUntil { live.snapshot()?.skipped.count == 3 }
        #expect(skipped, "the ledger keeps them for status")
        #expect(live.snapshot()?.skipped.map { "\($0.name): \($0.reason)" } == [
            "checkpoint-5000: symbolic link, not followed",
            "checkpoint-99999999999999999999: step number 99999999999999999999 does not fit in a 64-bit integer",
            "checkpoint-abc: 'abc' is not a step number",
        ])

        #expect(try FileDigest.sha256(ofFile: "\(live.output)/adapter_model.safetensors") == published)
        #expect(live.snapshot()?.merge?.id == 1)
        #expect(daemon.stop() == 0)
        let warnings = daemon.log.components(separatedBy: "WARNING rejected").count - 1
        let lines = daemon.log.split(separator: "\n").filter { $0.contains("WARNING rejected") }
        let names = lines.map { $0.split(separator: " ")[3] }
        #expect(warnings == Self.cases.count, "each rejection logged once: \(lines.filter { line in names.filter { line.split(separator: " ")[3] == $0 }.count > 1 })")
    }
}
