import ArgumentParser
import Daemon
import Foundation
import HostFileSystem
import Ledger
import Logging
import Status
import Settings
import Weigh

/// `mwad demo`: a newcomer's first look. Replays a real trainer run into a temporary
/// directory while the daemon watches it, and shows the merges as they appear.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Replay a real fine-tuning run while mwad watches it, and show the merges as they appear.",
        discussion: """
            By default the run bundled with mwad's sources (Tests/Fixtures/trainer-run-f32, a real \
            Hugging Face Trainer + PEFT LoRA run) is replayed; run it from the repository.
            """
    )

    @Option(help: "A run directory to replay (its checkpoint-<step> folders).")
    var from: String?

    @Option(help: "Seconds between checkpoints.")
    var pace: Double = 1.0

    @Option(help: "How many of the newest checkpoints to merge (default: merge.window's).")
    var window: Int?

    @Option(help: "Checkpoints the replay keeps, like the trainer's save_total_limit.")
    var saveTotalLimit: Int = 2

    func run() async throws {
        do {
            try await demo()
        } catch {
            printError(error)
            throw ExitCode.failure
        }
    }

    private func demo() async throws {
        let source = try from.map { try checkedRun($0) } ?? bundledRun()
        let work = try makeWorkDirectory()
        let config = try await ConfigLoader.load(file: nil, environment: [:], flags: [
            "watch.directory": "\(work)/run", "output": "\(work)/merged", "state_directory": "\(work)/state",
            "merge.window": window.map { "\($0)" } ?? SettingsText.defaultText("window"), "watch.debounce": "0.2", "watch.reconcile_interval": "5", "log.level": "warning",
        ])
        try FileManager.default.createDirectory(atPath: config.watchDirectory, withIntermediateDirectories: true)
        print("Replaying \(source)\n  into \(config.watchDirectory) (save_total_limit \(saveTotalLimit), one checkpoint every \(pace) s)")
        print("mwad watches it: \(config.merge.summary)\n")

        let ledger = try Ledger(path: config.ledger)
        let logger = DaemonService.makeLogger(level: config.logLevel, environment: [:])
        let engine = DaemonEngine(config: config, ledger: ledger, logger: logger, notifier: SystemdNotifier(environment: [:]))
        let daemon = Task { await engine.run() }
        defer { engine.requestStop() }

        let replay = TrainerReplay(source: source, target: config.watchDirectory, saveTotalLimit: saveTotalLimit)
        for name in try replay.checkpoints() {
            try replay.save(name)
            let step = Int64(name.dropFirst("checkpoint-".count))!
            print(await waitForMerge(through: step, ledger: config.ledger) ?? "\(name) written; mwad has not merged it yet")
            try await Task.sleep(for: .seconds(pace))
        }
        engine.requestStop()
        await daemon.value

        let snapshot = try LedgerReader(path: config.ledger).snapshot()
        let report = StatusReport(ledger: config.ledger, snapshot: snapshot, now: Date(), all: false, words: Catalog.words) { DaemonState.of($0, now: Date()) }
        print("\n" + HumanView.render(report))
        print("""

            The merged adapter is in \(config.output)
            Load it like any checkpoint:  PeftModel.from_pretrained(base_model, "\(config.output)")
            Look again later with:        mwad status --ledger \(config.ledger)
            Follow your own run with:     mwad run --watch YOUR_OUTPUT_DIR
            """)
    }

    /// Waits for the merge that includes `step`; returns a line describing it.
    private func waitForMerge(through step: Int64, ledger path: String) async -> String? {
        for _ in 0..<300 {  // 30 s
            if let snapshot = try? LedgerReader(path: path).snapshot(), let merge = snapshot.merge,
               let newest = snapshot.members.last.flatMap({ snapshot.checkpoint(id: $0.checkpointID) }), newest.step >= step {
                let loss = newest.trainLoss.map { String(format: "%.4f", $0) } ?? "?"
                let members = snapshot.members.map { member in
                    "\(snapshot.checkpoint(id: member.checkpointID)?.step ?? -1):\(String(format: "%.3f", member.weight))"
                }
                return "checkpoint-\(step) (train_loss \(loss)) → merge #\(merge.id!) of steps:weights  \(members.joined(separator: "  "))"
            }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return nil
    }

    /// The run bundled in the repository (or in the wheel: `mwad/demo/`, beside the
    /// binary's `bin/`), looked for from the current directory and from the
    /// executable's location (`swift run` builds under .build/).
    private func bundledRun() throws -> String {
        let relative = "Tests/Fixtures/trainer-run-f32", packaged = "demo/trainer-run-f32"
        var places = [FileManager.default.currentDirectoryPath]
        var folder = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<6 {
            places.append(folder.path)
            folder.deleteLastPathComponent()
        }
        for place in places {
            for path in ["\(place)/\(relative)", "\(place)/\(packaged)"] where FileManager.default.fileExists(atPath: path) {
                return path
            }
        }
        throw CommandError("the bundled run (\(relative)) was not found; run from mwad's repository or pass --from RUN_DIR")
    }

    private func checkedRun(_ path: String) throws -> String {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw CommandError("\(path): no such run directory")
        }
        return path
    }

    private func makeWorkDirectory() throws -> String {
        switch Posix.makeTemporaryDirectory(prefix: "\(NSTemporaryDirectory())/mwad-demo-") {
        case .success(let path): return path
        case .failure(let error): throw CommandError("cannot create a temporary directory: \(error)")
        }
    }
}
