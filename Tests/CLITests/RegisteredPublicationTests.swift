@testable import CLI
import Daemon
import Foundation
import Ingest
import Ledger
import Logging
import Merge
import MWADTestKit
import Publish
import Settings
import Status
import Testing

/// A publication target defined in this one file: a folder, like `folder`, and after
/// each publication (a merge, the best adapter, a kept checkpoint) the same files in
/// `<output>-mirror`. Registered in the catalog, it is reached from the configuration,
/// the daemon, its evaluation, `mwad merge` and status with no other edit: the one-file
/// claim of `docs/create_a_publication.md`.
struct MirrorPublication: PublicationTarget {
    static let description = PublicationDescription(name: "mirror", help: "a folder, and the same files in <output>-mirror") { layout in
        MirrorPublication(folder: FolderPublication(layout: layout))
    }

    let folder: FolderPublication
    var name: String { Self.description.name }
    var scratch: any PublicationTarget { folder }

    func target(at output: String) -> String { folder.target(at: output) }
    func adapterPath(at output: String) -> String { folder.adapterPath(at: output) }
    func isPublished(at output: String) -> Bool { folder.isPublished(at: output) && folder.isPublished(at: "\(output)-mirror") }
    func placementProblem(_ output: String, run: String?) -> String? { folder.placementProblem(output, run: run) }
    func handOverPath(at output: String, note: HandOverNote) -> String { folder.handOverPath(at: output, note: note) }
    func freeze(publishedAt output: String, into frozen: String) throws { try folder.freeze(publishedAt: output, into: frozen) }
    func evaluatorPath(folder: String, adapter: String) -> String { self.folder.evaluatorPath(folder: folder, adapter: adapter) }

    func publish(_ plan: MergePlan, to output: String, now: Date, digests: [String]?,
                 writeAdapter: ((MergeOutput) throws(PublishError) -> Void)?) throws(PublishError) -> MergeManifest {
        let manifest = try folder.publish(plan, to: output, now: now, digests: digests, writeAdapter: writeAdapter)
        try mirror(output, marker: AtomicDirectory.marker)
        return manifest
    }

    func handOver(_ source: String, to output: String, note: HandOverNote) throws(PublishError) -> String {
        let written = try folder.handOver(source, to: output, note: note)
        try mirror(output, marker: note.manifestFile)
        return written
    }

    private func mirror(_ output: String, marker: String) throws(PublishError) {
        try AtomicDirectory.replace("\(output)-mirror", marker: marker) { staging throws(PublishError) in
            for name in (try? FileManager.default.contentsOfDirectory(atPath: output)) ?? [] {
                guard let data = FileManager.default.contents(atPath: "\(output)/\(name)") else {
                    throw .io(path: "\(output)/\(name)", operation: "reading", reason: "unreadable")
                }
                try Durable.write(data, to: "\(staging)/\(name)")
            }
        }
    }
}

@Suite(.serialized) struct RegisteredPublicationTests {
    static let registered: Bool = {
        try? PublicationCatalog.register(MirrorPublication.description)
        return true
    }()

    init() { _ = Self.registered }

    let dir = TemporaryDirectory("mwad-publication")

    func bytes(_ path: String) -> Data? { FileManager.default.contents(atPath: path) }

    @Test func theCatalogTakesItOnceAndNeverAsAuto() {
        #expect(PublicationCatalog.names.contains("mirror"))
        #expect(PublicationCatalog.helpText.contains("mirror: a folder, and the same files in <output>-mirror"))
        #expect(throws: PublicationCatalogError.self) { try PublicationCatalog.register(MirrorPublication.description) }
        #expect(throws: PublicationCatalogError.self) { try PublicationCatalog.register(FilePublication.description) }
        var auto = MirrorPublication.description
        auto.name = "auto"
        #expect(throws: PublicationCatalogError.self) { try PublicationCatalog.register(auto) }
    }

    /// The daemon publishes the merge, the best adapter and the kept checkpoint through
    /// it; status says so; a name not in the catalog is refused with the names that are.
    @Test func theDaemonItsEvaluationAndStatusPublishThroughIt() async throws {
        let run = dir.file("run")
        try FileManager.default.createDirectory(atPath: run, withIntermediateDirectories: true)
        for step in [60, 70, 80] {
            try FileManager.default.copyItem(atPath: Fixtures.checkpoint(Fixtures.f32Run, step), toPath: "\(run)/checkpoint-\(step)")
        }
        let flags = ["watch.directory": run, "output": dir.file("merged"), "state_directory": dir.file("state"), "publish": "mirror",
                     "merge.window": "3", "eval.command": "/usr/bin/python3,\(Fixtures.root)/evaluators/norm_eval.py",
                     "eval.best_output": dir.file("best"), "eval.keep_newest": dir.file("newest")]
        let config = try await ConfigLoader.load(file: nil, environment: [:], flags: flags)
        #expect(config.publish == "mirror")
        await #expect {
            _ = try await ConfigLoader.load(file: nil, environment: [:], flags: flags.merging(["publish": "nope"]) { $1 })
        } throws: { error in
            "\(error)".contains("auto, folder, file, mirror")
        }
        let ledger = try Ledger(path: config.ledger)
        let engine = DaemonEngine(config: config, ledger: ledger, logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() },
                                  notifier: SystemdNotifier(environment: [:]))
        let outcome = await engine.runOnce()
        #expect(outcome.reflected)
        for (folder, file) in [("merged", "mwa_merge.json"), ("best", "mwa_best.json"), ("newest", "mwa_export.json")] {
            let adapter = bytes(dir.file("\(folder)/adapter_model.safetensors"))
            #expect(adapter != nil && adapter == bytes(dir.file("\(folder)-mirror/adapter_model.safetensors")), "\(folder)")
            #expect(bytes(dir.file("\(folder)/\(file)")) == bytes(dir.file("\(folder)-mirror/\(file)")), "\(folder)")
        }
        let snapshot = try ledger.snapshot()
        #expect(snapshot.evaluations.contains { $0.best })
        #expect(snapshot.daemon?.publication == "mirror (publish)")
        let report = StatusReport(ledger: config.ledger, snapshot: try LedgerReader(path: config.ledger).snapshot(), now: Date(), all: false, words: Catalog.words) {
            DaemonState.of($0, now: Date(), host: "h", processExists: { _ in false })
        }
        #expect(HumanView.render(report).contains("publication mirror (publish)"), "\(HumanView.render(report))")
        #expect(report.json().contains(#""publication" : "mirror (publish)""#))
        // Removing the mirror is a publication gone: the next pass publishes again.
        try FileManager.default.removeItem(atPath: dir.file("merged-mirror"))
        #expect(await engine.runOnce().reflected)
        #expect(FileManager.default.fileExists(atPath: dir.file("merged-mirror/mwa_merge.json")))
    }

    @Test func mwadMergeTakesIt() throws {
        let out = dir.file("merged")
        let command = try MergeCommand.parse(SettingsOptions.rewrite([Fixtures.f32Run, "--out", out, "--publish", "mirror", "--window", "2"]))
        try command.run()
        #expect(bytes("\(out)/adapter_model.safetensors") == bytes("\(out)-mirror/adapter_model.safetensors"))
        #expect(throws: (any Error).self) {
            _ = try MergeCommand.parse(SettingsOptions.rewrite([Fixtures.f32Run, "--out", out, "--publish", "nope"]))
        }
    }
}
