import Foundation
import Merge
import MWADTestKit
import SafeTensors
import Testing
import Weigh

/// `delta` and `svd` against the independent float64 oracle (``LoraOracle``), with
/// plain LoRA, rsLoRA and a `rank_pattern`; and what they refuse.
@Suite struct LoraMethodTests {
    let dir = TemporaryDirectory()
    typealias Matrix = LoraOracle.Matrix

    /// One member: a module `q` of rank `rank` (in 6, out 5) and a module `k` of rank
    /// `kRank`, plus a `modules_to_save` copy, with its config.
    struct Member {
        var q: (b: Matrix, a: Matrix)
        var k: (b: Matrix, a: Matrix)
        var head: [Double]
        var config: [String: Any]
    }

    func member(_ seed: UInt64, rank: Int, kRank: Int, config: [String: Any]) -> Member {
        func pair(_ r: Int, _ s: UInt64) -> (b: Matrix, a: Matrix) {
            (Matrix(rows: 5, columns: r, values: LoraOracle.values(5 * r, seed: s)), Matrix(rows: r, columns: 6, values: LoraOracle.values(r * 6, seed: s + 99)))
        }
        return Member(q: pair(rank, seed), k: pair(kRank, seed + 7), head: LoraOracle.values(8, seed: seed + 3), config: config)
    }

    func input(_ m: Member, _ name: String, weight: Double) throws -> MergeInput {
        let path = dir.file("\(name).safetensors")
        let p = "base_model.model.model.layers.0.self_attn"
        try TestAdapter.write([
            .init("\(p).q_proj.lora_A.weight", m.q.a.values, shape: [m.q.a.rows, 6]), .init("\(p).q_proj.lora_B.weight", m.q.b.values, shape: [5, m.q.b.columns]),
            .init("\(p).k_proj.lora_A.weight", m.k.a.values, shape: [m.k.a.rows, 6]), .init("\(p).k_proj.lora_B.weight", m.k.b.values, shape: [5, m.k.b.columns]),
            .init("base_model.model.lm_head.weight", m.head, shape: [2, 4]),
        ], to: path)
        let config = try AdapterConfig(data: JSONSerialization.data(withJSONObject: m.config), source: name)
        return MergeInput(name: name, file: try SafeTensorsFile(path: path), weight: weight, config: config)
    }

    /// The member's alpha for `module`: its alpha_pattern entry, else lora_alpha.
    func alphaOf(_ config: [String: Any], _ module: String) -> Double {
        let pattern = (config["alpha_pattern"] as? [String: Any]) ?? [:]
        return ((pattern[module] ?? config["lora_alpha"]) as! NSNumber).doubleValue
    }

    /// The scaling PEFT gives a module: alpha/r, or alpha/√r with rsLoRA.
    func scaling(_ config: [String: Any], alpha: Double, rank: Int) -> Double {
        (config["use_rslora"] as? Bool ?? false) ? alpha / Double(rank).squareRoot() : alpha / Double(rank)
    }

    /// s'·B'·A' of a merged module, read back from the file and its rewritten config.
    func mergedDelta(_ file: SafeTensorsFile, config: [String: Any], module: String) -> Matrix {
        let p = "base_model.model.model.layers.0.self_attn.\(module)"
        let a = file.tensor(named: "\(p).lora_A.weight")!, b = file.tensor(named: "\(p).lora_B.weight")!
        let r = a.shape[0]
        let pattern = (config["rank_pattern"] as? [String: Any] ?? [:]).mapValues { ($0 as! NSNumber).intValue }
        let alphas = (config["alpha_pattern"] as? [String: Any] ?? [:]).mapValues { ($0 as! NSNumber).doubleValue }
        let key = pattern.keys.first { "model.layers.0.self_attn.\(module)".hasSuffix($0) }
        #expect(r == (key.flatMap { pattern[$0] } ?? (config["r"] as! NSNumber).intValue), "the config's rank is the tensors' rank")
        let alpha = key.flatMap { alphas[$0] } ?? (config["lora_alpha"] as! NSNumber).doubleValue
        let s = scaling(config, alpha: alpha, rank: r)
        return (Matrix(rows: b.shape[0], columns: r, values: TestAdapter.values(file, b.name))
            * Matrix(rows: r, columns: a.shape[1], values: TestAdapter.values(file, a.name))).scaled(s)
    }

    nonisolated(unsafe) static let cases: [(name: String, configs: [[String: Any]], ranks: [(Int, Int)])] = [
        ("plain", Array(repeating: ["peft_type": "LORA", "r": 4, "lora_alpha": 16], count: 3), [(4, 4), (4, 4), (4, 4)]),
        ("rslora", Array(repeating: ["peft_type": "LORA", "r": 4, "lora_alpha": 8, "use_rslora": true], count: 3), [(4, 4), (4, 4), (4, 4)]),
        ("rank_pattern", Array(repeating: ["peft_type": "LORA", "r": 4, "lora_alpha": 8, "rank_pattern": ["k_proj": 2],
                                           "alpha_pattern": ["k_proj": 6]], count: 3), [(4, 2), (4, 2), (4, 2)]),
    ]

    /// The case's three members, their weights and inputs.
    func setup(_ index: Int) throws -> (test: (name: String, configs: [[String: Any]], ranks: [(Int, Int)]), weights: [Double],
                                        members: [Member], inputs: [MergeInput]) {
        let test = Self.cases[index]
        let weights = [0.2, 0.3, 0.5]
        let members = zip(test.configs, test.ranks).enumerated().map { member(UInt64($0 * 31 + 1), rank: $1.1.0, kRank: $1.1.1, config: $1.0) }
        return (test, weights, members, try members.enumerated().map { try input($1, "m\($0)", weight: weights[$0]) })
    }

    /// The oracle's Σ w_i·s_i·B_i·A_i of one module.
    func exactDelta(_ members: [Member], _ weights: [Double], _ pick: KeyPath<Member, (b: Matrix, a: Matrix)>, _ module: String) -> Matrix {
        LoraOracle.delta(members.enumerated().map { i, m in
            (m[keyPath: pick].b, m[keyPath: pick].a, weights[i] * scaling(m.config, alpha: alphaOf(m.config, module), rank: m[keyPath: pick].a.rows))
        })
    }

    @Test(arguments: cases.indices)
    func deltaIsTheExactWeightedDelta(_ index: Int) throws {
        let (test, weights, members, inputs) = try setup(index)
        let out = dir.file("delta-\(test.name).safetensors")
        let report = try DeltaMethod().write(inputs, to: MergeOutput(path: out, metadata: [:]))
        let config = try JSONSerialization.jsonObject(with: try DeltaMethod().adapterConfig(for: inputs, report: report)!) as! [String: Any]
        let file = try SafeTensorsFile(path: out)
        for (module, pick) in [("q_proj", \Member.q), ("k_proj", \Member.k)] as [(String, KeyPath<Member, (b: Matrix, a: Matrix)>)] {
            let exact = exactDelta(members, weights, pick, module)
            let merged = mergedDelta(file, config: config, module: module)
            #expect((merged - exact).norm <= 1e-6 * exact.norm, "\(test.name) \(module): \((merged - exact).norm / exact.norm)")
        }
        // Tensors that are no LoRA pair are the linear average.
        let head = TestAdapter.values(file, "base_model.model.lm_head.weight")
        let expected = (0..<8).map { j in zip(members, weights).reduce(0.0) { $0 + $1.0.head[j] * $1.1 } }
        #expect(zip(head, expected).allSatisfy { abs($0 - $1) < 1e-6 })
    }

    @Test(.enabled(if: LAPACKInstalled.here, Comment(rawValue: LAPACKInstalled.reason)), arguments: cases.indices)
    func svdIsTheTruncatedSVDOfTheExactDelta(_ index: Int) throws {
        let (test, weights, members, inputs) = try setup(index)
        for k in [2, 5] {  // 5 = min(out, in): lossless, the exact rank is at most 5
            let out = dir.file("svd-\(test.name)-\(k).safetensors")
            let method = SVDMethod(rank: k)
            let report = try method.write(inputs, to: MergeOutput(path: out, metadata: [:]))
            let config = try JSONSerialization.jsonObject(with: try method.adapterConfig(for: inputs, report: report)!) as! [String: Any]
            let file = try SafeTensorsFile(path: out)
            var tails = 0.0, totals = 0.0
            for (module, pick) in [("q_proj", \Member.q), ("k_proj", \Member.k)] as [(String, KeyPath<Member, (b: Matrix, a: Matrix)>)] {
                let exact = exactDelta(members, weights, pick, module)
                let (best, singular) = LoraOracle.truncated(exact, rank: k)
                let merged = mergedDelta(file, config: config, module: module)
                #expect((merged - best).norm <= 1e-4 * exact.norm, "\(test.name) \(module) k=\(k): \((merged - best).norm / exact.norm)")
                if k >= 5 { #expect((merged - exact).norm <= 1e-6 * exact.norm, "lossless at k ≥ the exact rank") }
                let tail = singular.dropFirst(k).reduce(0) { $0 + $1 * $1 }
                let total = singular.reduce(0) { $0 + $1 * $1 }
                let reported = try #require(report.moduleErrors?["model.layers.0.self_attn.\(module)"])
                #expect(abs(reported - (tail / total).squareRoot()) <= 1e-6, "the reported error is the oracle's")
                tails += tail; totals += total
            }
            #expect(abs(try #require(report.truncationError) - (tails / totals).squareRoot()) <= 1e-6)
        }
    }

    @Test func doraAndLoraBiasAreRefusedWithTheReasonAndLinearMergesThem() throws {
        let base = member(1, rank: 4, kRank: 4, config: ["peft_type": "LORA", "r": 4, "lora_alpha": 8])
        for (config, extra, reason) in [(["use_dora": true], "lora_magnitude_vector", "DoRA"), (["lora_bias": true], "lora_B.bias", "LoRA biases")] {
            var m = base
            m.config.merge(config) { $1 }
            let plain = try input(m, "plain-\(extra)", weight: 1)
            // The tensor that marks the variant, as PEFT saves it.
            let path = dir.file("variant-\(extra).safetensors")
            let p = "base_model.model.model.layers.0.self_attn.q_proj"
            let tensors: [TestAdapter.Tensor] = plain.file.tensors.map { .init($0.name, TestAdapter.values(plain.file, $0.name), shape: $0.shape) }
                + [extra == "lora_B.bias" ? .init("\(p).lora_B.bias", [0, 0, 0, 0, 0]) : .init("\(p).lora_magnitude_vector", [1, 1, 1, 1, 1])]
            try TestAdapter.write(tensors, to: path)
            let variant = MergeInput(name: "checkpoint-10", file: try SafeTensorsFile(path: path), weight: 1, config: plain.config)
            for method in [DeltaMethod() as any MergeMethod, SVDMethod()] {
                do {
                    _ = try method.write([variant], to: MergeOutput(path: dir.file("refused-\(method.name)"), metadata: [:]))
                    Issue.record("\(method.name) merged a \(reason) adapter")
                } catch {
                    #expect(error.description.contains(reason) && error.description.contains("use method linear"), "\(error)")
                }
                #expect(throws: MergeError.self) { try method.checkMember(variant, reference: nil) }
            }
            _ = try LinearMethod().write([variant], to: MergeOutput(path: dir.file("linear-\(reason)"), metadata: [:]))
        }
    }

    @Test func anAdapterWithoutItsConfigIsRefusedByTheExactMethods() throws {
        var plain = try input(member(1, rank: 4, kRank: 4, config: ["r": 4, "lora_alpha": 8]), "noconfig", weight: 1)
        plain.config = nil
        #expect(throws: MergeError.self) { _ = try DeltaMethod().write([plain], to: MergeOutput(path: dir.file("x"), metadata: [:])) }
    }

    /// A pair whose ranks disagree, or of rank 0, is refused with its shapes (it would
    /// otherwise read past a factor's data).
    @Test func aMismatchedOrEmptyPairIsRefused() throws {
        let p = "base_model.model.model.layers.0.self_attn.q_proj"
        for (aShape, bShape) in [([4, 6], [5, 3]), ([0, 6], [5, 0])] {
            let path = dir.file("pair-\(aShape[0])-\(bShape[1]).safetensors")
            try TestAdapter.write([.init("\(p).lora_A.weight", Array(repeating: 0.5, count: aShape[0] * 6), shape: aShape),
                                   .init("\(p).lora_B.weight", Array(repeating: 0.5, count: 5 * bShape[1]), shape: bShape)], to: path)
            let config = try AdapterConfig(data: Data(#"{"r": 4, "lora_alpha": 8}"#.utf8), source: "c")
            let input = MergeInput(name: "checkpoint-10", file: try SafeTensorsFile(path: path), weight: 1, config: config)
            for method in [DeltaMethod() as any MergeMethod, SVDMethod()] {
                #expect(throws: MergeError.self) { try method.checkMember(input, reference: nil) }
                do {
                    _ = try method.write([input], to: MergeOutput(path: dir.file("out-\(method.name)-\(aShape[0])"), metadata: [:]))
                    Issue.record("merged a pair of shapes \(aShape), \(bShape)")
                } catch {
                    #expect(error.description.contains("with the same r ≥ 1"), "\(error)")
                }
            }
        }
    }

    /// A NaN in a factor the exact methods copy (B) is named with its member, not
    /// carried into the merge.
    @Test func aNonFiniteFactorIsNamedWithItsMember() throws {
        var m = member(5, rank: 4, kRank: 4, config: ["peft_type": "LORA", "r": 4, "lora_alpha": 8])
        m.q.b.values[3] = .nan
        let bad = try input(m, "checkpoint-20", weight: 0.5)
        let good = try input(member(6, rank: 4, kRank: 4, config: ["peft_type": "LORA", "r": 4, "lora_alpha": 8]), "checkpoint-10", weight: 0.5)
        for method in [DeltaMethod() as any MergeMethod, SVDMethod()] {
            #expect(throws: MergeError.nonFinite(tensor: "base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight", member: "checkpoint-20")) {
                _ = try method.write([good, bad], to: MergeOutput(path: dir.file("nan-\(method.name)"), metadata: [:]))
            }
        }
    }
}
