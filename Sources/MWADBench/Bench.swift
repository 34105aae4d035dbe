import Foundation
import Merge
import SafeTensors

/// `mwad-bench` (run through scripts/bench.sh): measures the merge on adapters of the Llama-3-8B LoRA r=16 shape
/// against two references run on the same files, and prints (and with --write-docs
/// writes docs/PERFORMANCE.md) a table of medians and ratios.
@main
struct Bench {
    static func main() async {
        do {
            let arguments = Array(CommandLine.arguments.dropFirst())
            if arguments.first == "child-full" { return try childFull(Array(arguments.dropFirst())) }
            if arguments.first == "child-incremental" { return try childIncremental(Array(arguments.dropFirst())) }
            if arguments.first == "child-sum" { return try childSum(Array(arguments.dropFirst())) }
            if arguments.first == "child-method" { return try childMethod(Array(arguments.dropFirst())) }
            try await Bench(arguments: arguments).run()
        } catch {
            FileHandle.standardError.write(Data("mwad-bench: error: \(error)\n".utf8))
            exit(1)
        }
    }

    let dir: String
    let repeats: Int
    let writeDocs: Bool
    /// `--methods-only`: just the linear/delta/svd rows (quick).
    let onlyMethods: Bool
    /// `--large-layers N`: layers of the Llama-3-70B shape (0 skips it).
    let requestedLargeLayers: Int?
    let window = 5
    let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()

    init(arguments: [String]) throws {
        func value(_ flag: String) -> String? { arguments.firstIndex(of: flag).flatMap { arguments.indices.contains($0 + 1) ? arguments[$0 + 1] : nil } }
        dir = value("--dir") ?? NSTemporaryDirectory() + "mwad-bench"
        repeats = value("--repeats").flatMap(Int.init) ?? 5
        writeDocs = arguments.contains("--write-docs")
        onlyMethods = arguments.contains("--methods-only")
        requestedLargeLayers = value("--large-layers").flatMap(Int.init)
    }

    func run() async throws {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        say("generating adapters in \(dir) (Llama-3-8B shape, LoRA r=16, F32 and BF16)")
        for dtype in [DType.f32, .bf16] {
            for step in stride(from: 10, through: 60, by: 10) where !FileManager.default.fileExists(atPath: adapter(dtype, step)) {
                try Synthetic.checkpoint(folder(dtype, step), step: step, dtype: dtype)
            }
        }
        if onlyMethods {
            let methods = try measureMethods()
            print(Report(rows: [], process: nil, wide: nil, daemon: nil, scale: nil, methods: methods,
                         adapterMiB: size(adapter(.f32, 10)) / 1_048_576, repeats: repeats).text)
            return
        }
        var rows: [Row] = []
        for dtype in [DType.f32, .bf16] { rows += try measureMerges(dtype) }
        let methods = try measureMethods()
        let process = try measureProcess()
        let wide = try measureWideWindow()
        let daemon = try await measureDaemon()
        let scale = try measureScale()
        let report = Report(rows: rows, process: process, wide: wide, daemon: daemon, scale: scale, methods: methods,
                            adapterMiB: size(adapter(.f32, 10)) / 1_048_576, repeats: repeats)
        print(report.text)
        if writeDocs {
            try report.markdown.write(toFile: "docs/PERFORMANCE.md", atomically: true, encoding: .utf8)
            say("wrote docs/PERFORMANCE.md")
        }
    }

    // MARK: - Merges

    struct Row {
        var dtype: DType
        var full: Double
        var incremental: Double
        var numpy: Double?
        var torch: Double?
        var floor: Double
        var fullMemory: (anon: Double, rss: Double)
        var incrementalMemory: (anon: Double, rss: Double)
    }

    func measureMerges(_ dtype: DType) throws -> [Row] {
        let members = stride(from: 10, through: 50, by: 10).map { adapter(dtype, $0) }
        let weights = weightsFor(steps: Array(stride(from: 10, through: 50, by: 10)))
        try warm(members + [adapter(dtype, 60)])
        let out = "\(dir)/out-\(dtype.rawValue).safetensors"
        say("\(dtype.rawValue): full merge of \(window)")
        let inputs = try zip(members, weights).map { MergeInput(name: $0, file: try SafeTensorsFile(path: $0), weight: $1) }
        let full = try Measure.median(repeats, prepare: { try? FileManager.default.removeItem(atPath: out) }) {
            try LinearMerge.write(inputs, to: out, metadata: ["format": "pt"])
        }
        say("\(dtype.rawValue): incremental update")
        let state0 = "\(dir)/sum0-\(dtype.rawValue).safetensors"
        let state1 = "\(dir)/sum1-\(dtype.rawValue).safetensors"
        try? FileManager.default.removeItem(atPath: state0)
        try? FileManager.default.removeItem(atPath: out)
        let all = try (1...6).map { try member(dtype, $0 * 10) }
        try WindowSum.write(previous: nil, adding: Array(all[0..<5]), removing: [], dtypes: all[4].file,
                                output: MergeOutput(path: out, metadata: [:]), statePath: state0, fingerprint: "bench")
        let previous = WindowSum.State(path: state0)!
        // state1 is written over in place from the second run on, as the daemon's scratch sum is.
        let incremental = try Measure.median(repeats, prepare: { try? FileManager.default.removeItem(atPath: out) }) {
            try WindowSum.write(previous: previous, adding: [all[5]], removing: [all[0]], dtypes: all[5].file,
                                    output: MergeOutput(path: out, metadata: [:]), statePath: state1, fingerprint: "bench")
        }
        say("\(dtype.rawValue): references")
        let numpy = dtype == .f32 ? try reference("numpy_merge.py", members, weights) : nil  // numpy has no bfloat16
        let torch = try reference("torch_merge.py", members, weights)
        let floor = try ioFloor(members, outputBytes: size(members[0]))
        say("\(dtype.rawValue): peak memory")
        try? FileManager.default.removeItem(atPath: out)
        let fullMemory = try Measure.peakMemory([executable.path, "child-full", out] + members)
        try? FileManager.default.removeItem(atPath: out)
        try? FileManager.default.removeItem(atPath: state1)
        let incrementalMemory = try Measure.peakMemory([executable.path, "child-incremental", out, state1, state0,
                                                        adapter(dtype, 60), adapter(dtype, 10)])
        return [Row(dtype: dtype, full: full, incremental: incremental, numpy: numpy, torch: torch, floor: floor,
                    fullMemory: (fullMemory.anon, fullMemory.rss), incrementalMemory: (incrementalMemory.anon, incrementalMemory.rss))]
    }

    /// Seconds of a reference script in `scripts/` (median of its own repeats), nil when
    /// it cannot run here (numpy or torch missing).
    func reference(_ script: String, _ members: [String], _ weights: [Double]) throws -> Double? {
        let path = FileManager.default.currentDirectoryPath + "/scripts/\(script)"
        do {
            let output = try Measure.run(["python3", path, "\(dir)/reference-out.safetensors",
                                          weights.map { "\($0)" }.joined(separator: ",")] + members + ["--repeat", "\(repeats)"]).output
            return Double(output.trimmingCharacters(in: .whitespacesAndNewlines))
        } catch {
            say("\(script) skipped (\(error)); pip install numpy safetensors, and torch for the torch reference")
            return nil
        }
    }

    /// Reading the inputs (`cat > /dev/null`) plus writing one output of the same size
    /// and fsyncing it, as the merge does.
    func ioFloor(_ members: [String], outputBytes: Double) throws -> Double {
        let read = try Measure.median(repeats) { try Measure.run(["sh", "-c", "cat \(members.joined(separator: " ")) > /dev/null"]) }
        let path = "\(dir)/floor-out"
        let chunk = [UInt8](repeating: 1, count: 1 << 20)
        let write = Measure.median(repeats, prepare: { try? FileManager.default.removeItem(atPath: path) }) {
            let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            var left = Int(outputBytes)
            while left > 0 { left -= chunk.withUnsafeBytes { Foundation.write(fd, $0.baseAddress, min(left, $0.count)) } }
            fsync(fd)
            close(fd)
        }
        return read + write
    }

    // MARK: - Helpers

    func folder(_ dtype: DType, _ step: Int) -> String { "\(dir)/\(dtype.rawValue.lowercased())/checkpoint-\(step)" }
    func adapter(_ dtype: DType, _ step: Int) -> String { "\(folder(dtype, step))/adapter_model.safetensors" }

    func member(_ dtype: DType, _ step: Int) throws -> WindowSum.Member {
        WindowSum.Member(key: "\(step)", file: try SafeTensorsFile(path: adapter(dtype, step)), score: -log(2 + 10 / Double(step)))
    }

    /// Loss weighting with p = 1 for the synthetic losses 2 + 10/step.
    func weightsFor(steps: [Int]) -> [Double] {
        let g = steps.map { 1 / (2 + 10 / Double($0)) }
        let total = g.reduce(0, +)
        return g.map { $0 / total }
    }

    func warm(_ files: [String]) throws { try Measure.run(["sh", "-c", "cat \(files.joined(separator: " ")) > /dev/null"]) }
    func size(_ path: String) -> Double { Double((try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0) }
    func say(_ text: String) { FileHandle.standardError.write(Data("· \(text)\n".utf8)) }

    // MARK: - Children for memory figures

    static func childFull(_ arguments: [String]) throws {
        let members = Array(arguments.dropFirst())
        let inputs = try members.map { MergeInput(name: $0, file: try SafeTensorsFile(path: $0), weight: 1 / Double(members.count)) }
        try LinearMerge.write(inputs, to: arguments[0], metadata: [:])
    }

    static func childIncremental(_ arguments: [String]) throws {
        guard let previous = WindowSum.State(path: arguments[2]) else { throw BenchError("no state at \(arguments[2])") }
        let add = WindowSum.Member(key: "60", file: try SafeTensorsFile(path: arguments[3]), score: -log(2 + 10 / 60.0))
        let remove = WindowSum.Member(key: "10", file: try SafeTensorsFile(path: arguments[4]), score: -log(3.0))
        try WindowSum.write(previous: previous, adding: [add], removing: [remove], dtypes: add.file,
                                output: MergeOutput(path: arguments[0], metadata: [:]), statePath: arguments[1], fingerprint: "bench")
    }
}
