import Foundation
import Ingest
import Merge
import MWADTestKit
import SafeTensors
import Testing

/// The exact methods on the other formats' own tensor names and scalings, against the
/// float64 oracle: diffusers' files from a real run (both key styles; no config,
/// alpha = rank, so s = 1) and kohya files made from them (a scalar `.alpha` per
/// module, s = alpha/r, which the merge rewrites to its new rank).
@Suite struct AdapterFormatTests {
    typealias Matrix = LoraOracle.Matrix
    let dir = TemporaryDirectory()
    let weights = [0.2, 0.3, 0.5]

    static let runs = ["diffusers-run": ("lora.down.weight", "lora.up.weight", [20, 30, 40]),
                       "diffusers-run-text2image": ("lora_A.weight", "lora_B.weight", [10, 20, 20])]

    func matrix(_ file: SafeTensorsFile, _ name: String) -> Matrix {
        let info = file.tensor(named: name)!
        return Matrix(rows: info.shape[0], columns: info.shape[1], values: TestAdapter.values(file, name))
    }

    /// The modules of a file by their A factor's name (`…<a>`), with the B's name.
    func modules(_ file: SafeTensorsFile, a: String, b: String) -> [(a: String, b: String)] {
        file.tensors.map(\.name).filter { $0.hasSuffix(".\(a)") }.sorted().map { ($0, String($0.dropLast(a.count)) + b) }
    }

    @Test(arguments: ["diffusers-run", "diffusers-run-text2image"])
    func deltaOfDiffusersFilesIsTheExactWeightedDelta(_ run: String) throws {
        let (a, b, steps) = Self.runs[run]!
        let files = try steps.map { try SafeTensorsFile(path: "\(Fixtures.root)/\(run)/checkpoint-\($0)/pytorch_lora_weights.safetensors") }
        let inputs = files.enumerated().map { MergeInput(name: "m\($0.offset)", file: $0.element, weight: weights[$0.offset], format: .diffusers) }
        let out = dir.file("\(run).safetensors")
        _ = try DeltaMethod().write(inputs, to: MergeOutput(path: out, metadata: [:]))
        let merged = try SafeTensorsFile(path: out)
        let pairs = modules(files[0], a: a, b: b)
        #expect(pairs.count == 32)
        #expect(Set(merged.tensors.map(\.name)) == Set(files[0].tensors.map(\.name)), "the members' own names")
        for (aName, bName) in pairs {
            let exact = LoraOracle.delta(files.indices.map { (matrix(files[$0], bName), matrix(files[$0], aName), weights[$0]) })
            let got = matrix(merged, bName) * matrix(merged, aName)  // alpha = rank: s' = 1
            #expect(merged.tensor(named: aName)!.shape[0] == 12)
            #expect((got - exact).norm <= 1e-6 * max(exact.norm, 1e-12), "\(aName)")
        }
    }

    @Test(.enabled(if: LAPACKInstalled.here, Comment(rawValue: LAPACKInstalled.reason))) func svdOfDiffusersFilesIsTheTruncatedExactDelta() throws {
        let files = try [20, 30, 40].map { try SafeTensorsFile(path: "\(Fixtures.root)/diffusers-run/checkpoint-\($0)/pytorch_lora_weights.safetensors") }
        let inputs = files.enumerated().map { MergeInput(name: "m\($0.offset)", file: $0.element, weight: weights[$0.offset], format: .diffusers) }
        let out = dir.file("svd.safetensors")
        _ = try SVDMethod(rank: 4).write(inputs, to: MergeOutput(path: out, metadata: [:]))
        let merged = try SafeTensorsFile(path: out)
        for (aName, bName) in modules(files[0], a: "lora.down.weight", b: "lora.up.weight").prefix(6) {
            let exact = LoraOracle.delta(files.indices.map { (matrix(files[$0], bName), matrix(files[$0], aName), weights[$0]) })
            let best = LoraOracle.truncated(exact, rank: 4).approximation
            let got = matrix(merged, bName) * matrix(merged, aName)
            #expect((got - best).norm <= 1e-5 * max(exact.norm, 1e-12), "\(aName)")
        }
    }

    /// `unet.down_blocks.0….to_k.lora.down.weight` → `lora_unet_down_blocks_0_…_to_k.lora_down.weight`.
    static func kohyaName(_ name: String) -> String {
        for (from, to) in [(".lora.down.weight", ".lora_down.weight"), (".lora.up.weight", ".lora_up.weight")] where name.hasSuffix(from) {
            let module = name.dropLast(from.count).replacingOccurrences(of: "unet.", with: "lora_unet_", options: .anchored)
            return module.replacingOccurrences(of: ".", with: "_") + to
        }
        return name
    }

    /// A kohya file with the factors of `source` and `.alpha` = `alpha` for every module.
    func kohya(_ source: SafeTensorsFile, alpha: Double, to path: String) throws {
        var tensors = source.tensors.map { TestAdapter.Tensor(Self.kohyaName($0.name), TestAdapter.values(source, $0.name), shape: $0.shape) }
        for tensor in tensors where tensor.name.hasSuffix(".lora_down.weight") {
            tensors.append(.init(String(tensor.name.dropLast(".lora_down.weight".count)) + ".alpha", [alpha], shape: []))
        }
        try TestAdapter.write(tensors, to: path)
    }

    @Test func deltaOfKohyaFilesScalesByEachMembersAlphaAndWritesTheNewRankAsAlpha() throws {
        let alphas = [1.0, 4.0, 8.0]  // r = 4: s = 0.25, 1, 2
        let files = try [20, 30, 40].enumerated().map { index, step in
            let path = dir.file("kohya-\(step).safetensors")
            try kohya(try SafeTensorsFile(path: "\(Fixtures.root)/diffusers-run/checkpoint-\(step)/pytorch_lora_weights.safetensors"),
                      alpha: alphas[index], to: path)
            return try SafeTensorsFile(path: path)
        }
        let inputs = files.enumerated().map { MergeInput(name: "m\($0.offset)", file: $0.element, weight: weights[$0.offset], format: .kohya) }
        let out = dir.file("kohya-merged.safetensors")
        _ = try DeltaMethod().write(inputs, to: MergeOutput(path: out, metadata: [:]))
        let merged = try SafeTensorsFile(path: out)
        let pairs = modules(files[0], a: "lora_down.weight", b: "lora_up.weight")
        #expect(pairs.count == 32)
        for (aName, bName) in pairs {
            let exact = LoraOracle.delta(files.indices.map { (matrix(files[$0], bName), matrix(files[$0], aName), weights[$0] * alphas[$0] / 4) })
            let rank = merged.tensor(named: aName)!.shape[0]
            let alpha = TestAdapter.values(merged, String(aName.dropLast("lora_down.weight".count)) + "alpha")[0]
            #expect(rank == 12 && alpha == 12, "\(aName): the merge's own scaling is alpha/r = 1")
            let got = (matrix(merged, bName) * matrix(merged, aName)).scaled(alpha / Double(rank))
            #expect((got - exact).norm <= 1e-6 * max(exact.norm, 1e-12), "\(aName)")
        }
    }

    @Test func aPEFTFileWithoutItsConfigIsStillRefusedButADiffusersFileNeedsNone() throws {
        let file = try SafeTensorsFile(path: "\(Fixtures.root)/torchtune-run/epoch_0/adapter_model.safetensors")
        #expect(throws: MergeError.self) {
            _ = try DeltaMethod().write([MergeInput(name: "peft", file: file, weight: 1)], to: MergeOutput(path: dir.file("x"), metadata: [:]))
        }
        let diffusers = try SafeTensorsFile(path: "\(Fixtures.root)/diffusers-run/checkpoint-10/pytorch_lora_weights.safetensors")
        _ = try DeltaMethod().write([MergeInput(name: "d", file: diffusers, weight: 1, format: .diffusers)], to: MergeOutput(path: dir.file("y"), metadata: [:]))
    }
}
