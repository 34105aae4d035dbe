import Foundation
import Ingest
import MWADTestKit
import Testing

/// What every layout in the catalog promises, the registered `save-folders` included:
/// its evidence claims its own runs and no other layout's, so that auto-detection does
/// not depend on the order it asks in; every checkpoint its own run lists loads; and
/// its description's texts are there for `--help`, the docs and status.
@Suite struct LayoutConformanceTests {
    init() { _ = RegisteredLayoutTests.registered }

    let dir = TemporaryDirectory("mwad-layouts")

    /// A run of each layout: the real fixtures, and a run of the registered layout.
    func runs() throws -> [(layout: String, path: String)] {
        let save = dir.file("save-run")
        for step in [10, 20] {
            let folder = "\(save)/save_\(step)"
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            for file in [HuggingFaceLayout.adapterFile, HuggingFaceLayout.configFile] {
                try FileManager.default.copyItem(atPath: "\(Fixtures.checkpoint(Fixtures.f32Run, step))/\(file)", toPath: "\(folder)/\(file)")
            }
            try Data(#"{"step": \#(step), "loss": 4.5}"#.utf8).write(to: URL(fileURLWithPath: "\(folder)/\(Checkpoint.sidecarFile)"))
        }
        let fixtures: [(String, [String])] = [
            ("huggingface", ["trainer-run-f32", "trainer-run-bf16", "trainer-run-rslora", "trainer-run-dora"]),
            ("diffusers", ["diffusers-run", "diffusers-run-text2image"]),
            ("torchtune", ["torchtune-run"]),
            ("flat", ["flat-kohya", "flat-kohya-epochs", "flat-aitoolkit"]),
        ]
        return fixtures.flatMap { layout, names in names.map { (layout, "\(Fixtures.root)/\($0)") } } + [("save-folders", save)]
    }

    @Test func eachLayoutClaimsItsOwnRunsOnly() throws {
        let runs = try runs()
        #expect(Set(runs.map(\.layout)) == Set(LayoutCatalog.all.map(\.description.name)), "every layout has a run here")
        for run in runs {
            let entries = try FileManager.default.contentsOfDirectory(atPath: run.path)
            let claiming = LayoutCatalog.all.filter { $0.evidence(run.path, entries) != nil }.map(\.description.name)
            #expect(claiming == [run.layout], "\((run.path as NSString).lastPathComponent) is claimed by \(claiming)")
        }
    }

    @Test func everyCheckpointOfItsOwnRunLoads() throws {
        for run in try runs() {
            let layout = try #require(LayoutCatalog.named(run.layout)).make(MetricsSource())
            let listed = try RunDirectory.scan(run.path, layout: layout)
            #expect(!listed.checkpoints.isEmpty, "\(run.path)")
            for ref in listed.checkpoints {
                let checkpoint = try Checkpoint.load(ref, layout: layout)
                #expect(checkpoint.step == ref.step && !checkpoint.adapter.tensors.isEmpty, "\(ref.path)")
            }
        }
    }

    @Test func everyDescriptionSaysWhatTheDocsShow() {
        for layout in LayoutCatalog.all.map(\.description) {
            for (field, text) in [("trainers", layout.trainers), ("checkpoint", layout.checkpoint), ("completion", layout.completion),
                                  ("metrics", layout.metrics), ("output", layout.output)] {
                #expect(!text.isEmpty, "\(layout.name): \(field) is empty")
            }
            #expect(LayoutCatalog.helpText.contains("\(layout.name): \(layout.trainers)"))
        }
    }
}
