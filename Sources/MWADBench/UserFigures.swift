import Foundation
import Merge
import SafeTensors

extension Bench {
    struct ProcessFigures {
        var merge: Double
        var dryRun: Double
        var numpy: Double?
        var floor: Double
    }

    /// The whole `mwad merge RUN --out X --window 5` process on the F32 run (checkpoints
    /// 20–60: discovery, validation, SHA-256 of every member, merge, output hash, atomic
    /// publish), and its `--dry-run`; numpy and the floor on the same five files.
    func measureProcess() throws -> ProcessFigures? {
        let mwad = executable.deletingLastPathComponent().appendingPathComponent("mwad").path
        guard FileManager.default.isExecutableFile(atPath: mwad) else { return nil }
        let steps = Array(stride(from: 20, through: 60, by: 10))
        let members = steps.map { adapter(.f32, $0) }
        // A run directory of exactly these five (hard links: no extra disk).
        let run = "\(dir)/process-run"
        try? FileManager.default.removeItem(atPath: run)
        for step in steps {
            let target = "\(run)/checkpoint-\(step)"
            try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
            for name in try FileManager.default.contentsOfDirectory(atPath: folder(.f32, step)) {
                try FileManager.default.linkItem(atPath: "\(folder(.f32, step))/\(name)", toPath: "\(target)/\(name)")
            }
        }
        try warm(members)
        let out = "\(dir)/process-out"
        say("F32: the whole mwad merge process")
        // The parameter average, as the numpy script computes it (the method rows time delta and svd).
        let linear = ["--window", "5", "--method", "linear", "--weighting", "loss"]
        let merge = try Measure.median(repeats) { try Measure.run([mwad, "merge", run, "--out", out] + linear) }
        let dryRun = try Measure.median(repeats) { try Measure.run([mwad, "merge", run, "--dry-run"] + linear) }
        let numpy = try reference("numpy_merge.py", members, weightsFor(steps: steps))
        return ProcessFigures(merge: merge, dryRun: dryRun, numpy: numpy, floor: try ioFloor(members, outputBytes: size(members[0])))
    }

    struct WideFigures {
        var window: Int
        var full: Double
        var incremental: Double
    }

    /// Window 20: a full merge against the running-sum update (one in, one out), which
    /// costs the same whatever the window; 21 F32 adapters (3.3 GiB) in the bench folder.
    func measureWideWindow() throws -> WideFigures {
        let window = 20
        for step in stride(from: 10, through: (window + 1) * 10, by: 10) where !FileManager.default.fileExists(atPath: adapter(.f32, step)) {
            try Synthetic.checkpoint(folder(.f32, step), step: step, dtype: .f32)
        }
        let steps = Array(stride(from: 10, through: window * 10, by: 10))
        let members = steps.map { adapter(.f32, $0) }
        try warm(members + [adapter(.f32, (window + 1) * 10)])
        let out = "\(dir)/wide-out.safetensors"
        say("F32: full merge of \(window)")
        let inputs = try zip(members, weightsFor(steps: steps)).map { MergeInput(name: $0, file: try SafeTensorsFile(path: $0), weight: $1) }
        let full = try Measure.median(repeats, prepare: { try? FileManager.default.removeItem(atPath: out) }) {
            try LinearMerge.write(inputs, to: out, metadata: ["format": "pt"])
        }
        say("F32: running-sum update at window \(window)")
        let state0 = "\(dir)/wide-sum0.safetensors", state1 = "\(dir)/wide-sum1.safetensors"
        for path in [out, state0] { try? FileManager.default.removeItem(atPath: path) }
        let all = try (1...(window + 1)).map { try member(.f32, $0 * 10) }
        try WindowSum.write(previous: nil, adding: Array(all[0..<window]), removing: [], dtypes: all[0].file,
                            output: MergeOutput(path: out, metadata: [:]), statePath: state0, fingerprint: "bench")
        let previous = WindowSum.State(path: state0)!
        // state1 is written over in place from the second run on, as the daemon's scratch sum is.
        let incremental = try Measure.median(repeats, prepare: { try? FileManager.default.removeItem(atPath: out) }) {
            try WindowSum.write(previous: previous, adding: [all[window]], removing: [all[0]], dtypes: all[0].file,
                                output: MergeOutput(path: out, metadata: [:]), statePath: state1, fingerprint: "bench")
        }
        return WideFigures(window: window, full: full, incremental: incremental)
    }
}
