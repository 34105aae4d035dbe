import ArgumentParser
import Foundation
import Ingest
import Ledger
import Publish
import Settings
import Weigh

/// `mwad merge`: one merge of the last N checkpoints of a run, or of named folders.
struct MergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Merge the last N checkpoints of a run directory into one adapter.",
        discussion: MergeCommand.overview
    )

    /// The methods and weightings from the catalog (defaults marked), then the output.
    static var overview: String {
        let methods = Catalog.shared.methods.map { "\($0.name)\($0.name == MergeSettings.defaultMethod ? " (default)" : ""): \($0.help)" }
        let weightings = Catalog.shared.weightings.map {
            "\($0.name)\($0.name == MergeSettings.defaultWeighting ? " (default)" : ""): \($0.help), \($0.formula)"
        }
        // One paragraph: a blank line becomes an empty groff input line in the man page (lintian warns).
        return "Methods (--method): " + methods.joined(separator: "; ") + ". Weightings (--weighting): " + weightings.joined(separator: "; ")
            + ". The output is replaced atomically, in the run's own format and file names: a folder holding "
            + "mwa_merge.json and a PEFT adapter (adapter_model.safetensors, adapter_config.json) or a diffusers one "
            + "(pytorch_lora_weights.safetensors); for kohya or ai-toolkit files, the one file NAME-mwa.safetensors "
            + "(in the --out folder, or --out itself when it ends in .safetensors), its manifest in its metadata (mwa_merge)."
    }

    @Argument(help: "The trainer's output directory, holding its checkpoint folders.")
    var runDirectory: String?

    @Option(help: "The trainer's layout: auto, decided from the files (the default), or \(LayoutCatalog.helpText).")
    var layout = "auto"

    @Option(help: "The TensorBoard tag (or torchtune DiskLogger key) read as the loss; the layout's default when not given.")
    var metricsTag: String?

    @Option(help: "The run's log folder (absolute, or in the run directory); the layout's default (logs) when not given.")
    var metricsLogdir: String?

    @Option(parsing: .upToNextOption, help: "Merge these checkpoints (folders, or kohya and ai-toolkit files) instead of a run's latest.")
    var checkpoints: [String] = []

    @Option(help: "The output folder (replaced atomically); for kohya or ai-toolkit files, a folder to put NAME-mwa.safetensors in, or that file.")
    var out: String?

    @Option(help: "How the merge is published: \(PublicationCatalog.helpText).")
    var publish = "auto"

    @OptionGroup var settings: SettingsOptions

    @Flag(help: "Show the members and their weights; write nothing.")
    var dryRun = false

    @Flag(help: "Print machine-readable JSON instead of a table.")
    var json = false

    @Option(help: "Record the merge in this ledger (as the daemon does).")
    var ledger: String?

    func validate() throws {
        if (runDirectory == nil) == checkpoints.isEmpty {
            throw ValidationError("Give either a run directory or --checkpoints, not both or neither.")
        }
        if !checkpoints.isEmpty {
            for (flag, value) in [("--window", settings.window), ("--window-steps", settings.windowSteps), ("--stride", settings.stride)] {
                if let value { throw ValidationError("\(flag) \(value) cannot go with --checkpoints: the window is the \(checkpoints.count) folders given.") }
            }
        }
        if out == nil && !dryRun { throw ValidationError("Missing --out (or use --dry-run).") }
        if !LayoutCatalog.names.contains(layout) {
            throw ValidationError("--layout \(layout) is not a layout mwad knows: \(LayoutCatalog.names.joined(separator: ", ")).")
        }
        if !PublicationCatalog.names.contains(publish) {
            throw ValidationError("--publish \(publish) is not a publication target mwad knows: \(PublicationCatalog.names.joined(separator: ", ")).")
        }
        if let out, let problem = OutputPlacement.problem(out, run: runDirectory, target: placementTarget()) {
            throw ValidationError("--out \(out) \(problem)")
        }
        _ = try settings.merged(window: checkpoints.isEmpty ? nil : checkpoints.count)  // together, as the merge takes them
    }

    func run() throws {
        do {
            try merge()
        } catch let error as ExitCode {
            throw error
        } catch {
            printError(error)
            throw ExitCode.failure
        }
    }

    private func merge() throws {
        let settings = try settings.merged(window: checkpoints.isEmpty ? nil : checkpoints.count)
        let layout = try resolvedLayout()
        let members = try chooseMembers(window: settings.window, layout: layout)
        let plan = try MergePlan(checkpoints: members, settings: settings)
        if dryRun {
            let manifest = MergeManifest(plan: plan, created: Date())
            print(json ? String(decoding: try manifest.encoded(), as: UTF8.self) : MemberTable.render(manifest))
            if !json { print("dry run: nothing was written") }
            return
        }
        // The ledger's writer lock and its run are checked before anything is written.
        let lock = try ledger.map { path in try LedgerLock(ledger: path) }
        defer { withExtendedLifetime(lock) {} }
        if let ledger { _ = try Ledger(path: ledger, run: watchDirectory(plan)) }
        let started = Date()
        let publication = PublicationCatalog.make(publish, layout: layout)
        let manifest = try publication.publish(plan, to: out!, now: started)
        if let ledger { try record(plan, manifest, in: ledger, output: RunDirectory.absolute(publication.target(at: out!)), started: started) }
        if json {
            print(String(decoding: try manifest.encoded(), as: UTF8.self))
        } else {
            print(MemberTable.render(manifest))
            print("merged \(manifest.members.count == 1 ? "1 checkpoint" : "\(manifest.members.count) checkpoints") into \(publication.target(at: out!))")
        }
    }

    private func record(_ plan: MergePlan, _ manifest: MergeManifest, in path: String, output: String, started: Date) throws {
        let watch = watchDirectory(plan)
        let ledger = try Ledger(path: path, run: watch)
        try ledger.registerRun(watch: watch, output: RunDirectory.absolute(out!), settings: plan.settings, now: started)
        try ledger.recordPublished(plan, digests: manifest.members.map(\.adapterSHA256), output: output,
                                   outputSHA256: manifest.outputSHA256 ?? "", created: started,
                                   duration: Date().timeIntervalSince(started), report: manifest.report)
    }

    /// The run the ledger is for: the run directory, or the newest named folder's parent.
    private func watchDirectory(_ plan: MergePlan) -> String {
        runDirectory.map(RunDirectory.absolute) ?? (plan.newestCheckpoint.ref.path as NSString).deletingLastPathComponent
    }

    /// The window's members, newest first through the run's complete checkpoints: an
    /// incomplete or broken one is skipped with a warning and does not count.
    private func chooseMembers(window: WindowSpec, layout: any TrainerLayout) throws -> [Checkpoint] {
        if !checkpoints.isEmpty {
            if let advice = checkpoints.lazy.compactMap(PathAdvice.aRun).first { throw CommandError(advice) }
            return try checkpoints.map { path throws(IngestError) in try Checkpoint.load(folder: path, layout: layout) }
        }
        let run = try RunDirectory.scan(runDirectory!, layout: layout)
        for entry in run.skipped { printWarning("skipped \(entry.name): \(entry.reason)") }
        var selector = WindowSpec.Selector(window)
        var chosen: [Checkpoint] = []
        walk: for ref in run.checkpoints.reversed() {
            let checkpoint: Checkpoint
            do { checkpoint = try Checkpoint.load(ref, layout: layout) } catch {
                printWarning("skipped \(ref.name): \(error.description)")
                continue
            }
            switch selector.offer(checkpoint.step) {
            case .take: chosen.append(checkpoint)
            case .skip: continue
            case .stop: break walk
            }
        }
        guard !chosen.isEmpty else { throw CommandError("\(run.path): no complete \(layout.name) checkpoint to merge") }
        if let count = window.count, chosen.count < count, window.steps == nil {
            printWarning("window short: \(chosen.count) of \(count) checkpoints (the run has no more complete ones\(window.stride > 1 ? " at stride \(window.stride)" : "")); "
                + Self.rotationNote(steps: run.checkpoints.map(\.step)))
        }
        return chosen.reversed()
    }

    /// Why a run may hold fewer checkpoints than the window: the usual case is the
    /// trainer's rotation (`save_total_limit=2`, window 3), which `mwad run` outlives.
    static func rotationNote(steps: [Int64]) -> String {
        let sorted = steps.sorted()
        let gaps = zip(sorted.dropFirst(), sorted).map { $0 - $1 }
        let removed = gaps.min().map { sorted[0] > $0 } ?? false  // saves every N steps, the first kept later than N
        return (removed ? "the trainer's rotation (save_total_limit) removed the earlier ones"
                        : "a trainer's rotation (save_total_limit) may have removed earlier ones")
            + "; mwad run, watching during training, keeps a copy of each checkpoint before the trainer deletes it"
    }

    /// The layout named by `--layout`, or the one the run's (or first folder's) files show.
    /// The target, for the layout named or the one the run shows (nil if none shows yet).
    private func placementTarget() -> (any PublicationTarget)? {
        let run = runDirectory.map(RunDirectory.absolute)
        return (LayoutCatalog.named(layout) ?? run.flatMap { LayoutCatalog.detect(in: $0)?.description })
            .map { PublicationCatalog.make(publish, layout: $0.make(MetricsSource())) }
    }

    private func resolvedLayout() throws -> any TrainerLayout {
        if let named = LayoutCatalog.named(layout) { return named.make(MetricsSource(tag: metricsTag, logdir: metricsLogdir)) }
        if let first = checkpoints.first {
            return (LayoutCatalog.detect(folder: RunDirectory.absolute(first)) ?? HuggingFaceLayout.description).make(MetricsSource(tag: metricsTag, logdir: metricsLogdir))
        }
        let run = RunDirectory.absolute(runDirectory!)
        guard let found = LayoutCatalog.detect(in: run) else {
            if let advice = PathAdvice.oneCheckpoint(run) { throw CommandError(advice) }
            _ = try RunDirectory.scan(run, layout: HuggingFaceLayout())  // says why a folder cannot be read
            throw CommandError("\(run): no checkpoint of a layout mwad knows (\(LayoutCatalog.names.dropFirst().joined(separator: ", "))); name one with --layout")
        }
        return found.description.make(MetricsSource(tag: metricsTag, logdir: metricsLogdir))
    }
}
