import Foundation

/// The benchmark's table, for the terminal and for docs/PERFORMANCE.md.
struct Report {
    var rows: [Bench.Row]
    var process: Bench.ProcessFigures?
    var wide: Bench.WideFigures?
    var daemon: Bench.DaemonFigures?
    var scale: Bench.ScaleFigures?
    var methods: Bench.MethodFigures?
    var adapterMiB: Double
    var repeats: Int

    var machine: String {
        let cpu = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?
            .split(separator: "\n").first { $0.hasPrefix("model name") }?
            .split(separator: ":").last?.trimmingCharacters(in: .whitespaces) ?? "unknown CPU"
        let memory = ProcessInfo.processInfo.physicalMemory / 1_073_741_824
        return "\(ProcessInfo.processInfo.activeProcessorCount) cores (\(cpu)), \(memory) GiB, \(ProcessInfo.processInfo.operatingSystemVersionString)"
    }

    func seconds(_ value: Double?) -> String { value.map { String(format: "%.3f s", $0) } ?? "n/a" }
    func ratio(_ a: Double, _ b: Double?) -> String { b.map { String(format: "%.2f×", a / $0) } ?? "n/a" }
    func mib(_ value: Double) -> String { String(format: "%.0f MiB", value) }

    /// (measure, figure, compared with, target) lines.
    var lines: [[String]] {
        var lines: [[String]] = []
        for row in rows {
            let d = row.dtype.rawValue
            let limit = adapterMiB * (row.dtype == .bf16 ? 0.5 : 1) + 64
            lines.append(["\(d) full merge, window 5", seconds(row.full),
                          "numpy \(seconds(row.numpy)) → \(ratio(row.full, row.numpy)); torch \(seconds(row.torch)) → \(ratio(row.full, row.torch)); floor \(seconds(row.floor)) → \(ratio(row.full, row.floor))",
                          "≤ 0.35× numpy, ≤ 1.5× floor"])
            lines.append(["\(d) incremental update", seconds(row.incremental),
                          "numpy full \(seconds(row.numpy)) → \(ratio(row.incremental, row.numpy)); own full → \(ratio(row.incremental, row.full))",
                          "≤ 0.15× numpy full"])
            lines.append(["\(d) peak RssAnon, full", mib(row.fullMemory.anon), "peak RSS \(mib(row.fullMemory.rss))",
                          "≤ one adapter + 64 MiB = \(mib(limit))"])
            lines.append(["\(d) peak RssAnon, incremental", mib(row.incrementalMemory.anon), "peak RSS \(mib(row.incrementalMemory.rss))",
                          "≤ \(mib(2 * limit))"])
        }
        if let process {
            lines.append(["whole `mwad merge` process, F32, window 5", seconds(process.merge),
                          "numpy script \(seconds(process.numpy)) → \(ratio(process.merge, process.numpy)); floor \(seconds(process.floor)) → \(ratio(process.merge, process.floor))",
                          "≤ 0.25× numpy, ≤ 2× floor"])
            lines.append(["whole `mwad merge --dry-run`, F32", seconds(process.dryRun), "writes nothing; hashes the five members", "-"])
        }
        if let methods { lines += methodLines(methods) }
        if let wide {
            lines.append(["F32 full merge, window \(wide.window)", seconds(wide.full), "the running-sum update: \(seconds(wide.incremental))", "-"])
            lines.append(["F32 running-sum update, window \(wide.window)", seconds(wide.incremental),
                          "own full merge of \(wide.window) → \(ratio(wide.incremental, wide.full))", "≤ 0.5× the full merge"])
        }
        if let daemon, let f32 = rows.first(where: { $0.dtype == .f32 }) {
            let bound = 3 * daemon.copyFloor + f32.full
            lines.append(["daemon: ingest-to-publish (F32)", seconds(daemon.latency),
                          "copy floor \(seconds(daemon.copyFloor)); 3× it + the full merge \(seconds(f32.full)) = \(seconds(bound)) → \(ratio(daemon.latency, bound))",
                          "≤ 3× copy floor + merge"])
            lines.append(["daemon: CPU per ingested checkpoint (F32)", String(format: "%.3f s", daemon.cpuPerCheckpoint),
                          "user + system: one read of the trainer's file (copy, SHA-256, value check), merge of 5, publish, ledger", "-"])
            lines.append(["daemon idle: CPU over \(Int(daemon.idleSeconds)) s", String(format: "%.3f s", daemon.idleCPU),
                          "RSS \(mib(daemon.idleRSS))", "no measurable CPU, < 30 MiB RSS"])
        }
        for point in scale?.points ?? [] {
            let input = point.adapterGiB * Double(point.window)
            lines.append(["\(point.shape), \(String(format: "%.2f", point.adapterGiB)) GiB/adapter, window \(point.window): full merge",
                          seconds(point.full), String(format: "%.2f s per GiB read; peak RssAnon %@", point.full / input, mib(point.fullAnon)),
                          "linear in adapter size"])
            lines.append(["\(point.shape), window \(point.window): running-sum update", seconds(point.sum),
                          String(format: "%.2f s per GiB of adapter; peak RssAnon %@", point.sum / point.adapterGiB, mib(point.sumAnon)),
                          "flat in the window"])
        }
        return lines
    }

    var text: String {
        let header = ["measure", "median", "compared with", "target"]
        let all = [header] + lines
        let widths = (0..<4).map { column in all.map { $0[column].count }.max()! }
        return all.map { row in
            row.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  ")
        }.joined(separator: "\n")
    }

    var markdown: String {
        """
        # Performance

        Measured by `scripts/bench.sh --write-docs` (see the README) on \
        \(machine), \(ISO8601DateFormatter().string(from: Date())).

        Inputs: synthetic adapters of the Llama-3-8B LoRA r=16 shape (32 layers × q, k, v, o, \
        gate, up, down; 41.9M parameters: \(String(format: "%.0f", adapterMiB)) MiB in F32, \
        half in BF16), warm in the page cache, and for the scale rows the Llama-3-70B r=64 \
        shape\(scaleNote). Medians of \(repeats) runs (3 for the scale rows), each after a \
        `sync`. References run on the same files in the same run: `scripts/numpy_merge.py` \
        (safetensors.numpy + numpy weighted sum in F32, what a practitioner writes; numpy has \
        no BF16), `scripts/torch_merge.py` (safetensors.torch + in-place `add_`, as fairseq's \
        `average_checkpoints.py` does; skipped without torch) and the I/O floor (`cat` of the \
        five inputs to /dev/null, plus writing and fsyncing one output of the same size). \
        mwad's figures include its fsync of the output, which the scripts' saves do not do.

        | measure | median | compared with | target |
        | --- | --- | --- | --- |
        \(lines.map { "| " + $0.joined(separator: " | ") + " |" }.joined(separator: "\n"))

        ## How

        - **The merge** streams the members from their memory maps in 1M-element chunks, \
        F32 accumulation in loops the compiler vectorizes, each chunk split across the cores, \
        the output written in one pass (`LinearMerge`), with writeback started every 8 MiB \
        (`sync_file_range`) so that the final fsync waits only for the tail.
        - **`mwad merge`** hashes the members (SHA-256, for `mwa_merge.json`) on threads of \
        its own, one per core, while the merge streams, and hashes the output on another \
        thread as it is written: nothing is read twice. (Dispatch ran such work on one core \
        while the merge held its pool.)
        - **The daemon's ingest** reads the trainer's file once: copied with read(2); \
        SHA-256 on a thread of its own; NaN and infinities looked for in the same bytes as \
        they stream (`StreamingScan`, which parses the header from the first bytes); \
        writeback started as the copy grows; fsynced. The copy is not read back: a read-back \
        would come from the page cache, not the disk, so it would catch nothing; a file \
        rewritten or replaced while read is caught at the source (size, mtime and inode). \
        `copy_file_range` would not save the pass (the bytes must reach user space for the \
        hash and the check anyway), and a reflink (XFS, btrfs; not ext4) would make the hash \
        read the copy back from disk.
        - **The running sum.** The daemon can keep the window as a running F64 sum \
        S = Σ g_i·θ_i with G = Σ g_i (`WindowSum`): a new checkpoint adds g·θ, the evicted \
        one subtracts it, one pass over S and the two changed members writes the new S and \
        the merge S/G, at a cost that does not depend on the window. S is not fsynced: a \
        checksum beside it (`SumChecksum`, eight 64-bit Fletcher lanes, at memory speed) \
        tells a sum a power cut left torn, which is then recomputed exactly; it is checked \
        once per process. The new S is written over the sum before the last (kept as \
        scratch, swapped in with `RENAME_EXCHANGE`), so its pages are reused. The daemon \
        takes, per update, whichever costs less, counting bytes written to the page cache \
        4× and bytes written and fsynced 7× a byte read (`merge.running_sum: auto`): the \
        full merge up to a window of 12, the sum from 13 on. An exact recomputation every \
        `merge.recompute_every` updates (default 50) bounds drift; tests hold 200 updates \
        within 1e-6 of a full merge.

        ## Where targets are missed, and why

        - **The whole `mwad merge` process vs 0.25× numpy and 2× the floor.** SHA-256 of the \
        five members and the output (960 MiB; about 1.2 GB/s per core here, with SHA-NI) \
        needs 0.8 CPU-seconds: 0.4 s on 2 cores before anything else, which is already more \
        than 0.25× the numpy script and 1.6× the floor. The dry-run row is that hashing \
        alone. Meeting the targets would take a faster hash than the Hub's SHA-256, or \
        more cores.
        - **The running-sum update vs 0.5× the full merge at window 20.** It reads and writes \
        the F64 sum (twice an F32 adapter each way) besides the two members and the merge; \
        writing into the page cache costs several times a warm read, so it lands at about \
        0.5–0.75× here. It no longer fsyncs the sum, and it is flat in the window (the \
        scale rows) while the full merge grows with it, so the ratio falls as the window \
        grows.
        - **Ingest-to-publish vs 3× the copy floor plus the merge.** Met in most runs by hand \
        (0.45–0.55 s), not always in the benchmark. This machine is a Firecracker VM: \
        writes into the page cache usually run at 2.7 GB/s, but at times (about one run in \
        five, more after large deletions) at 0.3–0.4 GB/s, shown by `perf` as time in \
        `copy_folio_from_iter_atomic`, and by a plain `dd` of 160 MiB taking 0.43 s instead \
        of 0.06 s. Every write-heavy row (the ingest, the process, the sum) varies by that \
        much between runs; the CPU per ingested checkpoint counts that time too.
        - **Idle RSS vs 30 MiB.** The idle daemon maps no adapter; its ~40 MiB are the Swift \
        runtime, Foundation (with its ICU data) and Dispatch. Its idle CPU is a heartbeat and \
        a scan every 10 s.

        """
    }

    /// How far the 70B shape was scaled down, and why.
    var scaleNote: String {
        guard let scale else { return " (not run: --large-layers 0)" }
        guard let reason = scale.scaledBecause else { return " (80 layers, 3.1 GiB per F32 adapter)" }
        return " scaled down to \(scale.layers) of its 80 layers (\(reason); `--large-layers N` sets it)"
    }
}
