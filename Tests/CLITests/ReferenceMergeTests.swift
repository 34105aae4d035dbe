import Foundation
import MWADTestKit
import SafeTensors
import Testing

/// `mwad merge` on the two real trainer runs reproduces every reference merge.
@Suite struct ReferenceMergeTests {
    /// `f32-last5-loss-p1.0` → its run and the command-line settings.
    struct Reference {
        var name: String
        var run: String
        var arguments: [String]

        init(_ name: String) throws {
            self.name = name
            let weights = try ReferenceWeights.load(name)
            run = name.hasPrefix("f32") ? Fixtures.f32Run : Fixtures.bf16Run
            // Uniform weighting has no penalty (mwad refuses one given for it).
            arguments = ["--window", "\(weights.window)", "--weighting", weights.weighting]
                + (weights.weighting == "uniform" ? [] : ["--penalty", "\(weights.penalty)"])
        }
    }

    @Test(arguments: Fixtures.referenceMerges)
    func reproducesTheReference(_ name: String) throws {
        let reference = try Reference(name)
        let dir = TemporaryDirectory()
        let out = dir.file("merged")
        let result = try MWADProcess.run(["merge", "--method", "linear", "--weighting", "loss", "--window", "5", reference.run, "--out", out] + reference.arguments)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.isEmpty)

        try checkTensors(merged: "\(out)/adapter_model.safetensors",
                         expected: "\(Fixtures.root)/expected/\(name)/adapter_model.safetensors",
                         inputDType: name.hasPrefix("f32") ? .f32 : .bf16)
        try checkWeights(manifest: "\(out)/mwa_merge.json", reference: try ReferenceWeights.load(name))
    }

    func checkTensors(merged: String, expected: String, inputDType: DType) throws {
        let got = try SafeTensorsFile(path: merged)
        let want = try SafeTensorsFile(path: expected)
        #expect(Set(got.tensors.map(\.name)) == Set(want.tensors.map(\.name)))
        for tensor in want.tensors {
            let mine = try #require(got.tensor(named: tensor.name))
            #expect(mine.shape == tensor.shape)
            #expect(mine.dtype == inputDType)  // output dtype = input dtype
            let a = TestAdapter.values(got, tensor.name)
            let b = TestAdapter.values(want, tensor.name)
            // The fixtures' README: F32 within 1e-6 absolute; BF16 within one BF16
            // rounding step (relative 2^-8) of the float64 reference.
            let worst = zip(a, b).map { x, y in
                inputDType == .f32 ? abs(x - y) / 1e-6 : abs(x - y) / max(abs(y) * 0x1p-8, Double(Float.leastNormalMagnitude))
            }.max() ?? 0
            #expect(worst <= 1, "\(tensor.name): \(worst) × the tolerance")
        }
    }

    /// The parts of `mwa_merge.json` compared with the reference. (Decoded with
    /// JSONDecoder, which reads doubles exactly.)
    struct Manifest: Decodable {
        struct Member: Decodable {
            var step: Int64
            var metric: Double
            var weight: Double
        }

        var weighting: String
        var members: [Member]
    }

    func checkWeights(manifest path: String, reference: ReferenceWeights) throws {
        let manifest = try JSONDecoder().decode(Manifest.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(manifest.members.map(\.step) == reference.checkpoints.map(\.step))
        for (member, expected) in zip(manifest.members, reference.checkpoints) {
            #expect(abs(member.weight - expected.weight) <= 1e-12)
            #expect(member.metric == expected.metric)
        }
        #expect(manifest.weighting == (reference.penalty == 0 ? "uniform" : reference.weighting))
    }
}
