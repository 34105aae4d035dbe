import Foundation
import Ingest
import MWADTestKit
import Publish
import SafeTensors
import Testing
import Settings
import Weigh

@Suite struct MergePublisherTests {
    let dir = TemporaryDirectory()

    func plan(_ run: String, _ steps: [Int]) throws -> MergePlan {
        let checkpoints = try steps.map { try Checkpoint.load(folder: "\(run)/checkpoint-\($0)") }
        return try MergePlan(checkpoints: checkpoints, settings: MergeSettings(window: steps.count, weighting: "loss", method: "linear"))
    }

    func snapshot(_ folder: String) throws -> [String: Data] {
        var files: [String: Data] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: folder) {
            files[name] = try Data(contentsOf: URL(fileURLWithPath: "\(folder)/\(name)"))
        }
        return files
    }

    @Test func publishesALoadableAdapterFolder() throws {
        let out = dir.file("merged")
        let manifest = try FolderPublication(layout: HuggingFaceLayout()).publish(try plan(Fixtures.f32Run, [60, 70, 80]), to: out)
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: out))
                == ["adapter_model.safetensors", "adapter_config.json", "mwa_merge.json"])
        let config = try Data(contentsOf: URL(fileURLWithPath: Fixtures.checkpoint(Fixtures.f32Run, 80) + "/adapter_config.json"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: "\(out)/adapter_config.json")) == config)
        let written = try MergeManifest.decode(try Data(contentsOf: URL(fileURLWithPath: "\(out)/mwa_merge.json")))
        #expect(written.members.map(\.step) == [60, 70, 80])
        #expect(written.outputSHA256 == (try FileDigest.sha256(ofFile: "\(out)/adapter_model.safetensors")))
        #expect(written.members == manifest.members)
        let merged = try SafeTensorsFile(path: "\(out)/adapter_model.safetensors")
        #expect(merged.metadata?["format"] == "pt")
        #expect(merged.metadata?["mwa_steps"] == "[60,70,80]")
        #expect(merged.metadata?["mwa_weighting"] == "loss")
        #expect(dir.entries() == ["merged"])  // no staging folder left
    }

    /// The members' digests, hashed in the background while the merge streams, are each
    /// member's own, in the plan's order, and the output's is the file written.
    @Test func theManifestHasEachMembersDigest() throws {
        let out = dir.file("merged")
        let manifest = try FolderPublication(layout: HuggingFaceLayout()).publish(try plan(Fixtures.f32Run, [40, 50, 60, 70, 80]), to: out)
        #expect(manifest.members.map(\.step) == [40, 50, 60, 70, 80])
        for member in manifest.members {
            #expect(member.adapterSHA256 == (try FileDigest.sha256(ofFile: Fixtures.adapter(Fixtures.f32Run, Int(member.step)))))
        }
        #expect(manifest.outputSHA256 == (try FileDigest.sha256(ofFile: "\(out)/adapter_model.safetensors")))
        let written = try MergeManifest.decode(Data(contentsOf: URL(fileURLWithPath: "\(out)/mwa_merge.json")))
        #expect(written.members == manifest.members && written.outputSHA256 == manifest.outputSHA256)
    }

    @Test func replacesAnEarlierMergeInOneStep() throws {
        let out = dir.file("merged")
        try FolderPublication(layout: HuggingFaceLayout()).publish(try plan(Fixtures.f32Run, [10, 20]), to: out)
        try FolderPublication(layout: HuggingFaceLayout()).publish(try plan(Fixtures.f32Run, [70, 80]), to: out)
        let manifest = try MergeManifest.decode(try Data(contentsOf: URL(fileURLWithPath: "\(out)/mwa_merge.json")))
        #expect(manifest.members.map(\.step) == [70, 80])
        #expect(dir.entries() == ["merged"])
    }

    @Test func aMergeThatFailsHalfWayLeavesThePreviousOutputByteIdentical() throws {
        let out = dir.file("merged")
        try FolderPublication(layout: HuggingFaceLayout()).publish(try plan(Fixtures.f32Run, [10, 20]), to: out)
        let before = try snapshot(out)

        // A member whose last tensor (in write order) holds a NaN: every other tensor
        // has been written to the staging file when the merge fails.
        let run = dir.copyRun(Fixtures.f32Run, steps: [70, 80], as: "broken")
        let adapter = "\(run)/checkpoint-80/adapter_model.safetensors"
        let file = try SafeTensorsFile(path: adapter)
        let last = file.tensors.max { $0.name < $1.name }!
        let offset = file.fileBytes.count - file.tensors.last!.dataOffsets.upperBound + last.dataOffsets.lowerBound
        var bytes = try Data(contentsOf: URL(fileURLWithPath: adapter))
        bytes.replaceSubrange(offset..<(offset + 4), with: CraftedSafeTensors.f32([.nan]))
        try bytes.write(to: URL(fileURLWithPath: adapter))

        #expect(throws: PublishError.self) { try FolderPublication(layout: HuggingFaceLayout()).publish(try plan(run, [70, 80]), to: out) }
        #expect(try snapshot(out) == before)
        #expect(dir.entries() == ["broken", "merged"])
    }

    @Test func aMemberThatBecomesUnreadableLeavesThePreviousOutput() throws {
        let out = dir.file("merged")
        try FolderPublication(layout: HuggingFaceLayout()).publish(try plan(Fixtures.f32Run, [10, 20]), to: out)
        let before = try snapshot(out)
        let run = dir.copyRun(Fixtures.f32Run, steps: [70, 80], as: "vanishing")
        let chosen = try plan(run, [70, 80])
        // The trainer's save_total_limit deletes the folder after it was read.
        try FileManager.default.removeItem(atPath: "\(run)/checkpoint-80")
        #expect(throws: PublishError.self) { try FolderPublication(layout: HuggingFaceLayout()).publish(chosen, to: out) }
        #expect(try snapshot(out) == before)
        #expect(dir.entries() == ["merged", "vanishing"])
    }

    @Test func neverReplacesAFolderMWADDidNotMake() throws {
        let out = dir.file("precious")
        dir.write("precious/notes.txt", "keep me")
        #expect(throws: PublishError.self) { try FolderPublication(layout: HuggingFaceLayout()).publish(try plan(Fixtures.f32Run, [10]), to: out) }
        #expect(try String(contentsOfFile: "\(out)/notes.txt", encoding: .utf8) == "keep me")
        let file = dir.write("afile", "x")
        #expect(throws: PublishError.self) { try FolderPublication(layout: HuggingFaceLayout()).publish(try plan(Fixtures.f32Run, [10]), to: file) }
        #expect(dir.entries() == ["afile", "precious"])
    }

    @Test func removesLeftoversOfACrash() throws {
        let out = dir.file("merged")
        try FolderPublication(layout: HuggingFaceLayout()).publish(try plan(Fixtures.f32Run, [10]), to: out)
        dir.write(".merged.mwad-staging-abc123/adapter_model.safetensors", "half")
        dir.write(".merged.mwad-old-42/adapter_model.safetensors", "old")
        dir.write(".other.mwad-staging-x/keep", "not ours")
        AtomicDirectory.removeLeftovers(of: out)
        #expect(dir.entries() == [".other.mwad-staging-x", "merged"])
    }
}
