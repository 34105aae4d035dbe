import Foundation
import SafeTensors

extension Bench {
    struct DaemonFigures {
        var latency: Double
        /// CPU seconds the daemon spent per ingested checkpoint (copy, checks, merge, publish).
        var cpuPerCheckpoint: Double
        /// Copying the adapter: read + write + fsync, what the ingest must at least do.
        var copyFloor: Double
        var idleCPU: Double
        var idleRSS: Double
        var idleSeconds: Double
    }

    /// Ingest-to-publish latency of `mwad run` for a new F32 checkpoint written in HF
    /// order (from trainer_state.json written to mwa_merge.json naming it), and the
    /// idle daemon's CPU and RSS.
    func measureDaemon() async throws -> DaemonFigures? {
        let mwad = executable.deletingLastPathComponent().appendingPathComponent("mwad").path
        guard FileManager.default.isExecutableFile(atPath: mwad) else {
            say("mwad is not built next to mwad-bench (run scripts/bench.sh); daemon figures skipped")
            return nil
        }
        let run = "\(dir)/daemon-run"
        try? FileManager.default.removeItem(atPath: run)
        try? FileManager.default.removeItem(atPath: "\(dir)/daemon-state")
        try? FileManager.default.removeItem(atPath: "\(dir)/daemon-out")
        try FileManager.default.createDirectory(atPath: run, withIntermediateDirectories: true)
        for step in stride(from: 10, through: 50, by: 10) { try FileManager.default.copyItem(atPath: folder(.f32, step), toPath: "\(run)/checkpoint-\(step)") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: mwad)
        // The parameter average of 5, as the target (3× copy floor + the full linear merge) assumes.
        process.arguments = ["run", "--watch", run, "--out", "\(dir)/daemon-out", "--ledger", "\(dir)/daemon-state/ledger.sqlite",
                             "--method", "linear", "--weighting", "loss", "--window", "5"]
        process.environment = ["HOME": NSHomeDirectory(), "XDG_STATE_HOME": "\(dir)/daemon-state", "MWAD_WATCH_DEBOUNCE": "0",
                               "MWAD_LOG_LEVEL": "warning"]
        try process.run()
        defer { if process.isRunning { process.terminate(); process.waitUntilExit() } }
        guard waitForManifest(step: 50, timeout: 120) != nil else { throw BenchError("the daemon did not publish its first merge") }
        say("daemon: ingest-to-publish latency")
        var latencies: [Double] = []
        var cpu: [Double] = []
        for step in [60, 70, 80] {
            sync()
            let cpuBefore = Measure.cpuSeconds(process.processIdentifier)
            let folder = "\(run)/checkpoint-\(step)"
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: adapter(.f32, 60), toPath: "\(folder)/adapter_model.safetensors")
            try FileManager.default.copyItem(atPath: "\(self.folder(.f32, 60))/adapter_config.json", toPath: "\(folder)/adapter_config.json")
            let start = DispatchTime.now().uptimeNanoseconds
            try Synthetic.state(step: step).write(toFile: "\(folder)/trainer_state.json", atomically: false, encoding: .utf8)
            guard let end = waitForManifest(step: step, timeout: 120) else { throw BenchError("no merge for step \(step)") }
            latencies.append(Double(end - start) / 1e9)
            try await Task.sleep(for: .seconds(1))  // the ledger's bookkeeping after the publish
            cpu.append(Measure.cpuSeconds(process.processIdentifier) - cpuBefore)
        }
        say("daemon: idle for 10 s (after 5 s to settle)")
        try await Task.sleep(for: .seconds(5))  // let the last merge's bookkeeping finish
        let before = Measure.cpuSeconds(process.processIdentifier)
        try await Task.sleep(for: .seconds(10))
        let idle = Measure.cpuSeconds(process.processIdentifier) - before
        let status = (try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8)) ?? ""
        return DaemonFigures(latency: latencies.sorted()[1], cpuPerCheckpoint: cpu.sorted()[1], copyFloor: try copyFloor(adapter(.f32, 60)),
                             idleCPU: idle, idleRSS: Measure.field(status, "VmRSS"), idleSeconds: 10)
    }

    /// Copying `path` with read/write to a new file and fsyncing it (warm source).
    func copyFloor(_ path: String) throws -> Double {
        let copy = "\(dir)/copy-floor"
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 64)
        defer { buffer.deallocate() }
        try warm([path])
        return Measure.median(repeats, prepare: { try? FileManager.default.removeItem(atPath: copy) }) {
            let input = open(path, O_RDONLY), output = open(copy, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            while case let count = read(input, buffer.baseAddress, buffer.count), count > 0 { _ = write(output, buffer.baseAddress, count) }
            fsync(output)
            close(input)
            close(output)
        }
    }

    /// Polls `daemon-out/mwa_merge.json` until its newest member is `step`; returns when.
    func waitForManifest(step: Int, timeout: Double) -> UInt64? {
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(timeout * 1e9)
        while DispatchTime.now().uptimeNanoseconds < deadline {
            if let data = FileManager.default.contents(atPath: "\(dir)/daemon-out/mwa_merge.json"),
               let text = String(data: data, encoding: .utf8), text.contains("\"name\" : \"checkpoint-\(step)\"") {
                return DispatchTime.now().uptimeNanoseconds
            }
            usleep(2000)
        }
        return nil
    }
}
