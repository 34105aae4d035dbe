import Foundation
@testable import Daemon
import Ingest
import Ledger
import Logging
import Merge
import MWADTestKit
import Settings
import Testing

/// The trainer's rotation seen at the speed limit: a reconciler pass after every single
/// file a recursive delete removes, in every order of the files mwad reads. A folder
/// that is disappearing is a deletion, never a rewrite nor a rejection: the rows stay
/// ingested, the retained copies stay, and the folder ends vanished.
@Suite struct RotationOrderTests {
    let dir = TemporaryDirectory("mwad-rotation-order")
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)
    var run: String { dir.file("run") }

    func reconciler(_ ledger: Ledger, layout: any TrainerLayout) -> Reconciler {
        let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
        let store = RetainedStore(stateDirectory: dir.file("state"))
        let reporter = FailureReporter(ledger: ledger, logger: logger)
        let settings = MergeSettings()
        return Reconciler(directory: run, layout: layout,
                          ingestor: CheckpointIngestor(settings: settings, layout: layout, store: store,
                                                       settleTime: 0, clock: { Date(timeIntervalSince1970: 1_800_000_000) }),
                          ledger: ledger,
                          recorder: Recorder(ledger: ledger, store: store, logger: logger, reporter: reporter, settings: settings),
                          reporter: reporter)
    }

    /// Deletes `folder` file by file in `order`, a pass after each file; returns the
    /// rows after the last pass.
    func deleteWithPasses(_ folder: String, order: [String], ledger: Ledger, layout: any TrainerLayout) throws -> [CheckpointRecord] {
        var sightings = Sightings()
        var second = 1.0
        let present = try FileManager.default.contentsOfDirectory(atPath: folder)
        for name in order.filter(present.contains) + present.filter({ !order.contains($0) }).sorted() {
            try FileManager.default.removeItem(atPath: "\(folder)/\(name)")
            second += 1
            let pass = reconciler(ledger, layout: layout).pass(sightings: &sightings, now: t0.addingTimeInterval(second))
            #expect(!pass.failed)
            #expect(pass.waiting.isEmpty, "after \(name): a folder being deleted is not shown as being written: \(pass.waiting)")
            let rows = try ledger.checkpoints()
            #expect(rows.allSatisfy { $0.status == .ingested }, "after \(name) of \(order): \(rows.map { "\($0.step) \($0.status) \($0.reason ?? "")" })")
        }
        try FileManager.default.removeItem(atPath: folder)
        _ = reconciler(ledger, layout: layout).pass(sightings: &sightings, now: t0.addingTimeInterval(second + 1))
        return try ledger.checkpoints()
    }

    static let huggingFaceOrders = FolderDeletion.orders(of: FolderDeletion.huggingFaceGroups)

    @Test(arguments: 0..<24)
    func huggingFaceInEveryOrder(_ index: Int) throws {
        let order = Self.huggingFaceOrders[index]
        let ledger = try Ledger.inMemory()
        let writer = TrainerWriter(runDirectory: run)
        for step in [10, 20, 30] { try writer.save(step: step) }
        var sightings = Sightings()
        _ = reconciler(ledger, layout: .huggingFace).pass(sightings: &sightings, now: t0)
        let before = try ledger.checkpoints()
        #expect(before.map(\.status) == [.ingested, .ingested, .ingested])
        let rows = try deleteWithPasses("\(run)/checkpoint-10", order: order, ledger: ledger, layout: .huggingFace)
        #expect(rows.map(\.id) == before.map(\.id), "no row added: \(rows)")
        #expect(rows.map(\.adapterSHA256) == before.map(\.adapterSHA256))
        #expect(rows[0].vanishedAt != nil && rows[1].vanishedAt == nil)
        #expect(rows.allSatisfy { $0.retainedPath.map(FileManager.default.fileExists(atPath:)) == true }, "the copies stay")
    }

    /// diffusers' rotation runs before the save; its folder has no completion marker
    /// but the weights file (and the logged loss).
    @Test(arguments: FolderDeletion.orders(of: [["pytorch_lora_weights.safetensors"], ["optimizer.bin"], ["scheduler.bin", "random_states_0.pkl"]]))
    func diffusersInEveryOrder(_ order: [String]) throws {
        let writer = try DiffusersWriter(runDirectory: run, totalLimit: nil)
        for step in [10, 20, 30] { try writer.save(step: step) }
        try expectOnlyADeletion(of: "checkpoint-10", order: order, layout: DiffusersLayout())
    }

    /// Three checkpoints ingested, then `folder` deleted file by file in `order`: the same
    /// rows, the first vanished.
    func expectOnlyADeletion(of folder: String, order: [String], layout: any TrainerLayout) throws {
        let ledger = try Ledger.inMemory()
        var sightings = Sightings()
        _ = reconciler(ledger, layout: layout).pass(sightings: &sightings, now: t0)
        let before = try ledger.checkpoints()
        #expect(before.map(\.status) == [.ingested, .ingested, .ingested], "\(before)")
        let rows = try deleteWithPasses("\(run)/\(folder)", order: order, ledger: ledger, layout: layout)
        #expect(rows.map(\.id) == before.map(\.id) && rows[0].vanishedAt != nil)
    }

    /// torchtune's `keep_last_n_checkpoints` deletes an epoch folder after the save.
    @Test(arguments: FolderDeletion.orders(of: [["adapter_model.safetensors"], ["adapter_config.json"], ["adapter_model.pt", "config.json", "generation_config.json"]]))
    func torchtuneInEveryOrder(_ order: [String]) throws {
        let writer = try TorchtuneWriter(runDirectory: run)
        for epoch in 0..<3 { try writer.save(epoch: epoch) }
        try expectOnlyADeletion(of: "epoch_0", order: order, layout: TorchtuneLayout())
    }

    /// A rewrite is still a rewrite: the folder deleted file by file, then written anew
    /// with other content (training resumed from an earlier checkpoint).
    @Test func aCompleteFolderWithOtherContentStillReplaces() throws {
        let ledger = try Ledger.inMemory()
        for step in [10, 20] { try TrainerWriter(runDirectory: run).save(step: step) }
        var sightings = Sightings()
        _ = reconciler(ledger, layout: .huggingFace).pass(sightings: &sightings, now: t0)
        _ = try deleteWithPasses("\(run)/checkpoint-20", order: ["adapter_model.safetensors"], ledger: ledger, layout: .huggingFace)
        let elsewhere = dir.file("elsewhere")
        try TrainerWriter(runDirectory: elsewhere).save(step: 30)  // other content, same tensors
        try FileManager.default.moveItem(atPath: "\(elsewhere)/checkpoint-30", toPath: "\(run)/checkpoint-20")
        for name in try FileManager.default.contentsOfDirectory(atPath: "\(run)/checkpoint-20") {  // written after the passes' clock
            try FileManager.default.setAttributes([.modificationDate: t0.addingTimeInterval(50)], ofItemAtPath: "\(run)/checkpoint-20/\(name)")
        }
        _ = reconciler(ledger, layout: .huggingFace).pass(sightings: &sightings, now: t0.addingTimeInterval(100))
        let rows = try ledger.checkpoints()
        #expect(rows.map { "\($0.step) \($0.status)" } == ["10 ingested", "20 replaced", "20 ingested"], "\(rows)")
    }
}
