import Foundation
import Merge
import SafeTensors

/// The merge methods on the 8B r16 window-5 shape: `linear`, `delta` and `svd` side by
/// side, with numpy doing svd's computation (thin QR of the stacked factors, SVD of the
/// core) on the same files: time, peak anonymous memory, output size.
extension Bench {
    struct MethodFigures {
        struct Method {
            var name: String
            var seconds: Double
            var anon: Double
            var outputBytes: Double
        }

        var methods: [Method]
        var numpySVD: Double?
    }

    static func methodInputs(_ members: [String], weights: [Double]) throws -> [MergeInput] {
        try zip(members, weights).map { path, weight in
            let configPath = ((path as NSString).deletingLastPathComponent as NSString).appendingPathComponent("adapter_config.json")
            let config = try AdapterConfig(data: Data(contentsOf: URL(fileURLWithPath: configPath)), source: configPath)
            return MergeInput(name: path, file: try SafeTensorsFile(path: path), weight: weight, config: config)
        }
    }

    static func method(_ name: String) -> any MergeMethod {
        switch name {
        case "delta": DeltaMethod()
        case "svd": SVDMethod()
        default: LinearMethod()
        }
    }

    func measureMethods() throws -> MethodFigures {
        let steps = Array(stride(from: 10, through: 50, by: 10))
        let members = steps.map { adapter(.f32, $0) }
        let weights = weightsFor(steps: steps)
        try warm(members)
        let inputs = try Self.methodInputs(members, weights: weights)
        var figures: [MethodFigures.Method] = []
        for name in ["linear", "delta", "svd"] {
            say("method \(name): window 5, F32")
            let out = "\(dir)/method-\(name).safetensors"
            let seconds = try Measure.median(repeats, prepare: { try? FileManager.default.removeItem(atPath: out) }) {
                _ = try Self.method(name).write(inputs, to: MergeOutput(path: out, metadata: ["format": "pt"]))
            }
            let bytes = size(out)
            try? FileManager.default.removeItem(atPath: out)
            let memory = try Measure.peakMemory([executable.path, "child-method", name, out] + members)
            figures.append(.init(name: name, seconds: seconds, anon: memory.anon, outputBytes: bytes))
        }
        say("numpy svd reference")
        let numpy = try reference("numpy_svd_merge.py", members, weights)
        return MethodFigures(methods: figures, numpySVD: numpy)
    }

    static func childMethod(_ arguments: [String]) throws {
        let members = Array(arguments.dropFirst(2))
        let inputs = try methodInputs(members, weights: members.map { _ in 1 / Double(members.count) })
        _ = try method(arguments[0]).write(inputs, to: MergeOutput(path: arguments[1], metadata: [:]))
    }
}

extension Report {
    /// The methods' rows: (measure, figure, compared with, target).
    func methodLines(_ figures: Bench.MethodFigures) -> [[String]] {
        let linear = figures.methods.first { $0.name == "linear" }
        return figures.methods.map { method in
            let compared: String
            let target: String
            switch method.name {
            case "delta":
                // delta writes the members' ranks summed: per output byte is the fair measure.
                let perByte = linear.map { (method.seconds / method.outputBytes) / ($0.seconds / $0.outputBytes) }
                compared = "linear \(seconds(linear?.seconds)) → \(ratio(method.seconds, linear?.seconds))"
                    + (perByte.map { String(format: ", per output byte %.2f×", $0) } ?? "")
                target = "≤ 1.5× linear"
            case "svd":
                compared = "numpy QR + SVD \(seconds(figures.numpySVD)) → \(ratio(method.seconds, figures.numpySVD))"
                target = "≤ 1× numpy"
            default:
                compared = "(the reference of the delta row)"
                target = ""
            }
            return ["method \(method.name), F32 window 5", seconds(method.seconds),
                    "\(compared); peak RssAnon \(mib(method.anon)); output \(mib(method.outputBytes / 1_048_576))",
                    target + (target.isEmpty ? "" : "; RssAnon ≤ one adapter + 64 MiB = \(mib(adapterMiB + 64))")]
        }
    }
}
