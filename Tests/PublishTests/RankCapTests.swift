import Foundation
import Ingest
import MWADTestKit
import Publish
import SafeTensors
import Settings
import Testing

/// `max_rank`: a merge above the cap is published as its truncated SVD at the cap,
/// which is the svd method's merge at that rank (itself checked against a float64
/// oracle in MergeTests), its config rewritten, its former rank and error reported; a
/// merge within the cap is published byte for byte as without one.
@Suite struct RankCapTests {
    let dir = TemporaryDirectory()

    /// The f32 run's last three checkpoints (rank 8 each) under `settings`.
    func plan(_ settings: MergeSettings) throws -> MergePlan {
        try MergePlan(checkpoints: try [60, 70, 80].map { try Checkpoint.load(folder: Fixtures.checkpoint(Fixtures.f32Run, $0)) }, settings: settings)
    }

    /// B·A of every LoRA module of the folder's adapter, times its PEFT scaling, in float64.
    func deltas(_ folder: String) throws -> [String: [Double]] {
        let file = try SafeTensorsFile(path: "\(folder)/adapter_model.safetensors")
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(folder)/adapter_config.json"))) as! [String: Any]
        var deltas: [String: [Double]] = [:]
        for a in file.tensors where a.name.hasSuffix(".lora_A.weight") {
            let module = String(a.name.dropLast(".lora_A.weight".count))
            let b = try #require(file.tensor(named: module + ".lora_B.weight"))
            let (r, inputs, outputs) = (a.shape[0], a.shape[1], b.shape[0])
            let scale = (config["lora_alpha"] as! Double) / Double(config["r"] as! Int)
            let av = TestAdapter.values(file, a.name), bv = TestAdapter.values(file, b.name)
            var product = [Double](repeating: 0, count: outputs * inputs)
            for i in 0..<outputs { for k in 0..<r { let x = bv[i * r + k] * scale; for j in 0..<inputs { product[i * inputs + j] += x * av[k * inputs + j] } } }
            deltas[module] = product
        }
        return deltas
    }

    @Test(.enabled(if: LAPACKInstalled.here, Comment(rawValue: LAPACKInstalled.reason)))
    func aMergeAboveTheCapIsItsTruncatedSVD() throws {
        var capped = MergeSettings(window: 3, method: "delta")
        capped.maxRank = 16
        let out = dir.file("capped")
        let manifest = try FolderPublication(layout: HuggingFaceLayout()).publish(try plan(capped), to: out)
        let report = try #require(manifest.report)
        #expect(report.cappedFrom == 24 && report.rank == 16, "\(report)")
        #expect(report.summary?.contains("capped from rank 24 to 16 (max_rank): SVD, relative error") == true, "\(report.summary ?? "")")
        #expect(manifest.outputSHA256 == (try FileDigest.sha256(ofFile: "\(out)/adapter_model.safetensors")))
        #expect(FileManager.default.fileExists(atPath: "\(out)/adapter_model.safetensors.uncapped") == false)
        // The svd method's own merge at rank 16 of the same members and weights.
        let svd = dir.file("svd")
        let direct = try FolderPublication(layout: HuggingFaceLayout())
            .publish(try plan(MergeSettings(window: 3, method: "svd", parameters: ["rank": .number(16)])), to: svd)
        let (mine, theirs) = (try deltas(out), try deltas(svd))
        #expect(mine.count == theirs.count && !mine.isEmpty)
        for (module, expected) in theirs {
            let got = try #require(mine[module])
            let norm = expected.reduce(0) { $0 + $1 * $1 }.squareRoot()
            let difference = zip(got, expected).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }.squareRoot()
            #expect(difference <= 1e-5 * max(norm, 1e-12), "\(module): \(difference / norm)")
        }
        let expectedError = try #require(direct.report?.truncationError)
        #expect(abs(try #require(report.truncationError) - expectedError) <= 1e-5, "the error is the svd method's")
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(out)/adapter_config.json"))) as? [String: Any]
        #expect(config?["r"] as? Int == 16 && config?["lora_alpha"] as? Int == 16)
    }

    @Test func aMergeWithinTheCapIsPublishedAsWithoutOne() throws {
        var within = MergeSettings(window: 3, method: "delta")
        within.maxRank = 24
        let (a, b) = (dir.file("within"), dir.file("uncapped"))
        let manifest = try FolderPublication(layout: HuggingFaceLayout()).publish(try plan(within), to: a)
        _ = try FolderPublication(layout: HuggingFaceLayout()).publish(try plan(MergeSettings(window: 3, method: "delta")), to: b)
        #expect(manifest.report?.cappedFrom == nil && manifest.report?.truncationError == nil)
        #expect(FileManager.default.contents(atPath: "\(a)/adapter_config.json") == FileManager.default.contents(atPath: "\(b)/adapter_config.json"))
        // The same tensors bit for bit (the header's provenance names the settings, max_rank among them).
        let (mine, theirs) = (try SafeTensorsFile(path: "\(a)/adapter_model.safetensors"), try SafeTensorsFile(path: "\(b)/adapter_model.safetensors"))
        #expect(mine.tensors.map(\.name) == theirs.tensors.map(\.name) && !mine.tensors.isEmpty)
        for tensor in theirs.tensors {
            #expect(TestAdapter.values(mine, tensor.name) == TestAdapter.values(theirs, tensor.name), "\(tensor.name)")
        }
        #expect(manifest.outputSHA256 == (try FileDigest.sha256(ofFile: "\(a)/adapter_model.safetensors")), "the digest of the bytes in place")
    }

    /// The cap is part of the settings' value: its fingerprint and JSON, and absent
    /// from both where it is 0 (every ledger before it keeps its fingerprints).
    @Test func theCapIsPartOfTheSettingsValue() throws {
        var capped = MergeSettings()
        capped.maxRank = 16
        #expect(capped.fingerprint != MergeSettings().fingerprint)
        #expect(capped.canonical.hasSuffix(";max_rank=16") && !MergeSettings().canonical.contains("max_rank"))
        let json = String(decoding: try JSONEncoder().encode(capped), as: UTF8.self)
        let plain = String(decoding: try JSONEncoder().encode(MergeSettings()), as: UTF8.self)
        #expect(json.contains("\"max_rank\":16") && !plain.contains("max_rank"))
        #expect(try JSONDecoder().decode(MergeSettings.self, from: Data(json.utf8)) == capped)
        #expect(try SettingsText.read({ $0 == "max_rank" ? "16" : nil }, over: MergeSettings()).maxRank == 16)
        #expect(throws: (any Error).self) { try SettingsText.read({ $0 == "max_rank" ? "-1" : nil }, over: MergeSettings()) }
    }
}
