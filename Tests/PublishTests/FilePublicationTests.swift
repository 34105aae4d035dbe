import Foundation
import Ingest
import MWADTestKit
import Publish
import SafeTensors
import Settings
import Testing

/// The flat layout's merge: one file, replaced by rename, its manifest in its metadata,
/// in a folder whose other files it never touches.
@Suite struct FilePublicationTests {
    let dir = TemporaryDirectory()

    /// The kohya fixture's checkpoints at `steps`, read by the flat layout (which learns
    /// the run's NAME from them: the merge's name).
    func plan(_ steps: [Int], run: String = "\(Fixtures.root)/flat-kohya", method: String = "delta") throws -> (MergePlan, FlatLayout) {
        let layout = FlatLayout()
        let refs = try RunDirectory.scan(run, layout: layout).checkpoints.filter { steps.contains(Int($0.step)) }
        let checkpoints = try refs.map { try Checkpoint.load($0, layout: layout) }
        return (try MergePlan(checkpoints: checkpoints, settings: MergeSettings(window: steps.count, weighting: "loss", method: method)), layout)
    }

    func bytes(_ path: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: path)) }

    @Test func oneFileInAFolderWhoseOtherFilesStayAsTheyWere() throws {
        let loras = dir.file("loras")
        dir.write("loras/someone-else.safetensors", "a download")
        let (plan, layout) = try plan([20, 30, 40])
        #expect(FilePublication(layout: layout).target(at: loras) == "\(loras)/pixel-mwa.safetensors")
        let manifest = try FilePublication(layout: layout).publish(plan, to: loras)
        let published = "\(loras)/pixel-mwa.safetensors"
        #expect(try FileManager.default.contentsOfDirectory(atPath: loras).sorted() == ["pixel-mwa.safetensors", "someone-else.safetensors"])
        #expect(try String(contentsOfFile: "\(loras)/someone-else.safetensors", encoding: .utf8) == "a download")
        #expect(manifest.outputSHA256 == (try FileDigest.sha256(ofFile: published)), "the returned manifest hashes the file")

        // The file describes itself: the manifest (but for what follows its header) and the provenance keys.
        let file = try SafeTensorsFile(path: published)
        var inside = try #require(FilePublication.manifest(ofFile: published))
        #expect(inside.outputSHA256 == nil && inside.report == nil, "a file cannot hold its own hash")
        #expect(abs(inside.created.timeIntervalSince(manifest.created)) < 1, "ISO 8601: whole seconds")
        (inside.outputSHA256, inside.report, inside.created) = (manifest.outputSHA256, manifest.report, manifest.created)
        #expect(inside == manifest)
        #expect(file.metadata?["mwa_steps"] == "[20,30,40]" && file.metadata?[AtomicFile.markerKey] != nil)

        // Its tensors are the folder form's, byte for byte.
        let folder = dir.file("as-folder")
        try FolderPublication(layout: layout).publish(plan, to: folder)
        let other = try SafeTensorsFile(path: "\(folder)/pixel-mwa.safetensors")
        #expect(file.tensors.map(\.name) == other.tensors.map(\.name) && !file.tensors.isEmpty)
        for tensor in file.tensors {
            let twin = try #require(other.tensor(named: tensor.name))
            #expect(Data(file.bytes(of: tensor)) == Data(other.bytes(of: twin)), "\(tensor.name)")
        }
    }

    @Test func anOutputEndingInSafetensorsIsTheFile() throws {
        let (plan, layout) = try plan([30, 40])
        let target = dir.file("deep/new/chosen.safetensors")
        try FilePublication(layout: layout).publish(plan, to: target)
        #expect(FilePublication(layout: layout).isPublished(at: target))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.file("deep/new")) == ["chosen.safetensors"])
    }

    @Test func replacesAnEarlierMergeAndTheLeftoversOfACrash() throws {
        let (first, layout) = try plan([10, 20])
        try FilePublication(layout: layout).publish(first, to: dir.path)
        // A crash between writing the staging file and the rename.
        dir.write(".pixel-mwa.safetensors.mwad-staging-1-2", "half")
        dir.write(".other.safetensors.mwad-staging-1-2", "not ours")
        try FilePublication(layout: layout).publish(try plan([30, 40]).0, to: dir.path)
        #expect(try #require(FilePublication.manifest(ofFile: dir.file("pixel-mwa.safetensors"))).members.map(\.step) == [30, 40])
        #expect(dir.entries() == [".other.safetensors.mwad-staging-1-2", "pixel-mwa.safetensors"])
    }

    @Test func neverReplacesAFileMWADDidNotMake() throws {
        let (plan, layout) = try plan([40])
        // The trainer's own final file, a file of other bytes, a folder: each refused.
        let trainers = dir.file("a/pixel-mwa.safetensors")
        try FileManager.default.createDirectory(atPath: dir.file("a"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: "\(Fixtures.root)/flat-kohya/pixel.safetensors", toPath: trainers)
        let notes = dir.write("b/pixel-mwa.safetensors", "notes")
        dir.write("c/pixel-mwa.safetensors/keep", "x")
        for (output, why) in [(trainers, "no mwad_version"), (notes, "not a readable safetensors file"), (dir.file("c"), "a folder")] {
            let before = try? bytes(FilePublication(layout: layout).target(at: output))
            #expect {
                try FilePublication(layout: layout).publish(plan, to: output)
            } throws: { error in
                guard case .outputNotReplaceable(_, let reason) = error as? PublishError else { return false }
                return reason.contains(why)
            }
            #expect((try? bytes(FilePublication(layout: layout).target(at: output))) == before)
        }
        #expect(try bytes(trainers) == bytes("\(Fixtures.root)/flat-kohya/pixel.safetensors"))
    }

    @Test func aMergeThatFailsHalfWayLeavesThePreviousFileByteIdentical() throws {
        let (good, layout) = try plan([10, 20])
        try FilePublication(layout: layout).publish(good, to: dir.path)
        let before = try bytes(dir.file("pixel-mwa.safetensors"))
        // A member whose last tensor in write order holds a NaN at its end.
        let run = dir.file("broken")
        try FileManager.default.createDirectory(atPath: run, withIntermediateDirectories: true)
        for name in ["pixel-step00000030.safetensors", "pixel-step00000040.safetensors", "logs"] {
            try FileManager.default.copyItem(atPath: "\(Fixtures.root)/flat-kohya/\(name)", toPath: "\(run)/\(name)")
        }
        let adapter = "\(run)/pixel-step00000040.safetensors"
        let file = try SafeTensorsFile(path: adapter)
        let last = file.tensors.filter { $0.dtype == .f32 && $0.elementCount > 1 }.max { $0.name < $1.name }!
        let offset = file.fileBytes.count - file.tensors.map(\.dataOffsets.upperBound).max()! + last.dataOffsets.upperBound - 4
        var broken = try bytes(adapter)
        broken.replaceSubrange(offset..<(offset + 4), with: CraftedSafeTensors.f32([.nan]))
        try broken.write(to: URL(fileURLWithPath: adapter))
        let (bad, _) = try plan([30, 40], run: run, method: "linear")
        #expect(throws: PublishError.self) { try FilePublication(layout: layout).publish(bad, to: dir.path) }
        #expect(try bytes(dir.file("pixel-mwa.safetensors")) == before)
        #expect(dir.entries() == ["broken", "pixel-mwa.safetensors"], "no staging file left")
    }

    @Test func theBestAdapterIsCopiedWithItsManifestAdded() throws {
        let source = "\(Fixtures.root)/flat-kohya/pixel-step00000040.safetensors"
        let target = dir.file("best/pixel-mwa-best.safetensors")
        let publication = FilePublication(layout: FlatLayout())
        let note = HandOverNote(key: "mwa_best", manifest: Data(#"{"chosen":"checkpoint"}"#.utf8), fileName: "pixel-mwa-best.safetensors")
        #expect(try publication.handOver(source, to: dir.file("best"), note: note) == target)
        let copy = try SafeTensorsFile(path: target)
        let original = try SafeTensorsFile(path: source)
        #expect(copy.metadata?["mwa_best"] == #"{"chosen":"checkpoint"}"# && copy.metadata?[AtomicFile.markerKey] != nil)
        #expect(copy.metadata?["ss_steps"] == original.metadata?["ss_steps"], "the trainer's own metadata is kept")
        for tensor in original.tensors {
            #expect(Data(copy.bytes(of: try #require(copy.tensor(named: tensor.name)))) == Data(original.bytes(of: tensor)))
        }
        // The copy is mwad's: the next best replaces it.
        _ = try publication.handOver(source, to: target, note: HandOverNote(key: "mwa_best", manifest: Data("{}".utf8), fileName: "unused"))
        #expect(try SafeTensorsFile(path: target).metadata?["mwa_best"] == "{}")
    }
}
