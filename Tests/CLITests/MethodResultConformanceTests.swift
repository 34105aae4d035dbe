@testable import CLI
import Foundation
import Ingest
import Merge
import MWADTestKit
import Publish
import SafeTensors
import Settings
import Testing

/// What every method in the catalog declares of itself, checked on real adapters: what
/// its merge is (``MergeResult``, read again in float64 here) and whether it takes
/// DoRA. The real-client checks read the same declarations (their rendered blocks), so
/// a method that declared itself wrongly would be checked wrongly there too: here it fails.
@Suite struct MethodResultConformanceTests {
    init() { _ = RegisteredIncrementalMethodTests.registered }

    let dir = TemporaryDirectory("mwad-method-results")

    /// On a real DoRA run: merged by each method that says it takes DoRA, refused (a
    /// merge error, with the reason) by each that says it does not.
    @Test func everyMethodTakesDoRAAsItDeclares() throws {
        let (layout, checkpoints) = try CatalogConformanceTests.window("\(Fixtures.root)/trainer-run-dora", count: 2)
        for description in Catalog.shared.methods where description.name != "svd" || LAPACKInstalled.here {
            let plan = try MergePlan(checkpoints: checkpoints, settings: MergeSettings(window: 2, weighting: "uniform", method: description.name))
            var refusal: String?
            do {
                _ = try FolderPublication(layout: layout).publish(plan, to: dir.file("dora-\(description.name)"))
            } catch {
                refusal = "\(error)"
            }
            if let refusal {
                #expect(!description.takesDoRA, "\(description.name) refused DoRA adapters (\(refusal)), and declares it takes them")
                #expect(refusal.contains("DoRA"), "\(description.name): \(refusal)")
            } else {
                #expect(description.takesDoRA, "\(description.name) merged DoRA adapters, and declares it does not take them")
            }
        }
    }

    /// On a real LoRA run, three members of unequal weights: each method's merge is what
    /// its declared result says, against the members' own tensors in float64.
    @Test func everyMethodsMergeIsWhatItDeclares() throws {
        let (layout, checkpoints) = try CatalogConformanceTests.window(Fixtures.f32Run, count: 3)
        for description in Catalog.shared.methods where description.name != "svd" || LAPACKInstalled.here {
            let settings = MergeSettings(window: 3, weighting: "step", method: description.name)
            let plan = try MergePlan(checkpoints: checkpoints, settings: settings)
            let out = dir.file("lora-\(description.name)")
            let manifest = try FolderPublication(layout: layout).publish(plan, to: out)
            var result = description.result
            if result == .chosen {
                let used = try #require(manifest.report?.methodUsed, "\(description.name): a chosen method records the one used")
                result = try Catalog.shared.method(used).result
                #expect(result != .chosen)
            }
            let weights = plan.members.map(\.weight)
            let inputs = checkpoints.map { (tensors: $0.adapter, config: $0.configPath.flatMap { FileManager.default.contents(atPath: $0) }) }
            let merged = try SafeTensorsFile(path: "\(out)/\(layout.output.adapterFile)")
            let mergedConfig = try Data(contentsOf: URL(fileURLWithPath: "\(out)/adapter_config.json"))
            switch result {
            case .exactDelta, .truncatedDelta:
                let (error, norm) = Self.deltaError(merged: merged, config: mergedConfig, members: inputs, weights: weights)
                #expect(norm > 0)
                let allowed = result == .exactDelta ? 1e-6 : (manifest.report?.truncationError ?? 0) + 1e-6
                #expect(error / norm <= allowed, "\(description.name): ‖ΔW − Σ w_i ΔW_i‖/‖ΔW‖ = \(error / norm), allowed \(allowed)")
            case .parameterAverage:
                for tensor in merged.tensors {
                    var expected = [Double](repeating: 0, count: tensor.shape.reduce(1, *))
                    for index in inputs.indices {
                        let values = TestAdapter.values(inputs[index].tensors, tensor.name)
                        for i in values.indices where i < expected.count { expected[i] += weights[index] * values[i] }
                    }
                    let got = TestAdapter.values(merged, tensor.name)
                    let worst = zip(got, expected).map { abs($0 - $1) / max(1e-3, abs($1)) }.max() ?? 0
                    #expect(got.count == expected.count && worst < 1e-6, "\(description.name) \(tensor.name): \(worst)")
                }
            case .chosen:
                Issue.record("\(description.name): chose a method that chooses")
            }
        }
    }

    /// s = lora_alpha/r (alpha/√r with rsLoRA), from an `adapter_config.json`.
    static func scale(_ config: Data?, rank: Int) -> Double {
        let object = (config.flatMap { try? JSONSerialization.jsonObject(with: $0) } as? [String: Any]) ?? [:]
        let alpha = (object["lora_alpha"] as? Double) ?? Double(rank)
        return (object["use_rslora"] as? Bool) == true ? alpha / Double(rank).squareRoot() : alpha / Double(rank)
    }

    /// ΔW = s·B·A of `module`, row-major.
    static func delta(_ file: SafeTensorsFile, _ config: Data?, _ module: String) -> [Double] {
        guard let a = file.tensors.first(where: { $0.name == module + ".lora_A.weight" }),
              let b = file.tensors.first(where: { $0.name == module + ".lora_B.weight" }) else { return [] }
        let rank = a.shape[0], cols = a.shape[1], rows = b.shape[0]
        let av = TestAdapter.values(file, a.name), bv = TestAdapter.values(file, b.name)
        let s = scale(config, rank: rank)
        var out = [Double](repeating: 0, count: rows * cols)
        for i in 0..<rows {
            for k in 0..<rank {
                let factor = s * bv[i * rank + k]
                for j in 0..<cols { out[i * cols + j] += factor * av[k * cols + j] }
            }
        }
        return out
    }

    /// ‖ΔW_merged − Σ w_i·ΔW_i‖ and ‖Σ w_i·ΔW_i‖ (Frobenius, over every LoRA module).
    static func deltaError(merged: SafeTensorsFile, config: Data, members: [(tensors: SafeTensorsFile, config: Data?)],
                           weights: [Double]) -> (error: Double, norm: Double) {
        let modules = merged.tensors.map(\.name).filter { $0.hasSuffix(".lora_A.weight") }.map { String($0.dropLast(".lora_A.weight".count)) }
        var error = 0.0
        var norm = 0.0
        for module in modules {
            let mine = delta(merged, config, module)
            var expected = [Double](repeating: 0, count: mine.count)
            for index in members.indices {
                let theirs = delta(members[index].tensors, members[index].config, module)
                for i in theirs.indices where i < expected.count { expected[i] += weights[index] * theirs[i] }
            }
            for i in mine.indices {
                error += (mine[i] - expected[i]) * (mine[i] - expected[i])
                norm += expected[i] * expected[i]
            }
        }
        return (error.squareRoot(), norm.squareRoot())
    }
}
