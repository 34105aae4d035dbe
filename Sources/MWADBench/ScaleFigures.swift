import Foundation
import Merge
import SafeTensors

extension Bench {
    struct ScaleFigures {
        struct Point {
            var shape: String
            var adapterGiB: Double
            var window: Int
            var full: Double
            var fullAnon: Double
            var sum: Double
            var sumAnon: Double
        }

        var layers: Int
        /// Why the Llama-3-70B shape has fewer than 80 layers, if it has.
        var scaledBecause: String?
        var points: [Point]
    }

    /// Layers of the Llama-3-70B r=64 shape to generate: `--large-layers`, else 80 when
    /// 21 adapters fit in half the free disk and half the memory (warm in the page
    /// cache), else as many as fit.
    func largeLayers() -> (layers: Int, reason: String?) {
        if let layers = requestedLargeLayers { return (layers, layers < 80 ? "--large-layers \(layers)" : nil) }
        let perLayer = Double(Shape.llama70B(layers: 1).parameters * 4)
        let disk = (try? FileManager.default.attributesOfFileSystem(forPath: dir)[.systemFreeSize] as? Double) ?? 0
        let memory = Double(ProcessInfo.processInfo.physicalMemory)
        let fit = Int(min(disk, memory) / 2 / (Double(largeMembers) * perLayer))
        if fit >= 80 { return (80, nil) }
        let short = disk < memory ? "disk" : "memory"
        return (max(1, fit), String(format: "21 full-size adapters (71 GB) do not fit in half the free %@ (%.0f GB free, %.0f GB memory)",
                                    short, disk / 1e9, memory / 1e9))
    }

    var largeMembers: Int { 21 }

    /// Full merge and running-sum update at windows 5 and 20, on the Llama-3-8B r=16
    /// adapters and on the Llama-3-70B r=64 shape: time per GiB of input should stay
    /// flat as adapters grow, the sum's time flat as the window grows, and anonymous
    /// memory flat throughout.
    func measureScale() throws -> ScaleFigures? {
        let (layers, reason) = largeLayers()
        guard layers > 0 else { return nil }
        let shape = Shape.llama70B(layers: layers)
        let folder = "\(dir)/large-\(layers)"
        for step in stride(from: 10, through: largeMembers * 10, by: 10) where !FileManager.default.fileExists(atPath: "\(folder)/checkpoint-\(step)/trainer_state.json") {
            if step == 10 { say("generating \(largeMembers) adapters of the \(shape.name) shape, \(layers) layers, in \(folder)") }
            try Synthetic.checkpoint("\(folder)/checkpoint-\(step)", step: step, dtype: .f32, shape: shape)
        }
        var points: [ScaleFigures.Point] = []
        for (name, adapterOf) in [(Shape.llama8B.name, { (step: Int) in adapter(.f32, step) }),
                                  ("\(shape.name), \(layers) layers", { (step: Int) in "\(folder)/checkpoint-\(step)/adapter_model.safetensors" })] {
            for window in [5, 20] {
                points.append(try measurePoint(name, window: window, adapterOf: adapterOf))
            }
        }
        return ScaleFigures(layers: layers, scaledBecause: reason, points: points)
    }

    /// One shape and window: the full merge of steps 10…10·window and the update that
    /// adds step 10·(window+1) and removes step 10, each in a child process (time and
    /// peak anonymous memory), medians of up to 3 runs, inputs warm.
    private func measurePoint(_ shape: String, window: Int, adapterOf: (Int) -> String) throws -> ScaleFigures.Point {
        for step in stride(from: 10, through: (window + 1) * 10, by: 10) where !FileManager.default.fileExists(atPath: adapterOf(step)) {
            try Synthetic.checkpoint((adapterOf(step) as NSString).deletingLastPathComponent, step: step, dtype: .f32)
        }
        let members = stride(from: 10, through: window * 10, by: 10).map(adapterOf)
        let out = "\(dir)/scale-out", state0 = "\(dir)/scale-sum0", state1 = "\(dir)/scale-sum1"
        let clear = { try? FileManager.default.removeItem(atPath: out) }  // state1 is overwritten in place, as in the daemon
        say("\(shape): window \(window)")
        try warm(members + [adapterOf((window + 1) * 10)])
        clear()
        try Measure.run([executable.path, "child-sum", out, state0] + members)
        var full: [(anon: Double, rss: Double, seconds: Double)] = []
        var sum: [(anon: Double, rss: Double, seconds: Double)] = []
        for _ in 0..<min(3, repeats) {
            clear()
            full.append(try Measure.peakMemory([executable.path, "child-full", out] + members))
            clear()
            sum.append(try Measure.peakMemory([executable.path, "child-incremental", out, state1, state0,
                                               adapterOf((window + 1) * 10), adapterOf(10)]))
        }
        clear()
        for path in [state0, state1].flatMap({ [$0, WindowSum.checkPath($0)] }) { try? FileManager.default.removeItem(atPath: path) }
        let median = { (runs: [(anon: Double, rss: Double, seconds: Double)]) in runs.sorted { $0.seconds < $1.seconds }[runs.count / 2] }
        return ScaleFigures.Point(shape: shape, adapterGiB: size(members[0]) / 1_073_741_824, window: window,
                                  full: median(full).seconds, fullAnon: full.map(\.anon).max()!,
                                  sum: median(sum).seconds, sumAnon: sum.map(\.anon).max()!)
    }

    /// `child-sum OUT STATE IN…`: the exact running sum of the inputs (the state the
    /// incremental update starts from).
    static func childSum(_ arguments: [String]) throws {
        let members = try arguments.dropFirst(2).enumerated().map { index, path in
            WindowSum.Member(key: "\(index)", file: try SafeTensorsFile(path: path), score: 0)
        }
        try WindowSum.write(previous: nil, adding: members, removing: [], dtypes: members[0].file,
                            output: MergeOutput(path: arguments[0], metadata: [:]), statePath: arguments[1], fingerprint: "bench")
        try FileManager.default.removeItem(atPath: arguments[0])
    }
}
