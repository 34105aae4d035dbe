import Foundation
import MWADTestKit
import Testing

/// The same mistake gets the same answer in `mwad merge` and `mwad run`: the flag
/// named, the range said, exit status 64; and the small things a user trips over.
@Suite struct OneAnswerTests {
    let dir = TemporaryDirectory()

    func usage(_ arguments: [String]) throws -> String {
        let result = try MWADProcess.run(arguments)
        #expect(result.status == 64, "\(arguments): \(result.stderr)")
        return result.stderr
    }

    @Test(arguments: [
        (["--window", "-3"], "--window must be a whole number >= 1, or all, got -3."),
        (["--window", "0"], "--window must be a whole number >= 1, or all, got 0."),
        (["--penalty", "-1"], "--penalty must be a finite number >= 0, got -1."),
        (["--penalty", "-0.5"], "--penalty must be a finite number >= 0, got -0.5."),
        (["--smoothing", "-2"], "--smoothing must be a whole number >= 1, got -2."),
    ])
    func aWrongNumberIsRefusedAlikeInMergeAndRun(_ flag: [String], _ message: String) throws {
        let merge = try usage(["merge", "--method", "linear", "--weighting", "loss", "--window", "5", Fixtures.f32Run, "--out", dir.file("m")] + flag)
        let run = try usage(["run", "--watch", Fixtures.f32Run, "--once"] + flag)
        #expect(merge.contains(message), "\(merge)")
        #expect(run.contains(message), "\(run)")
        #expect(!merge.contains("Missing value") && !run.contains("config key"))
    }

    @Test func helpListsOnlyAcceptedMetrics() throws {
        for command in ["merge", "run"] {
            let help = try MWADProcess.run([command, "--help"]).stdout
                .split(whereSeparator: \.isWhitespace).joined(separator: " ")  // help wraps its lines
            #expect(help.contains("--metric <train_loss|eval_loss>"))
            #expect(help.contains("The loss a loss weighting reads"), "\(command): \(help)")
            #expect(!help.contains("eval_loss, step"))
        }
        _ = try usage(["merge", "--method", "linear", "--weighting", "loss", "--window", "5", Fixtures.f32Run, "--dry-run", "--metric", "step"])
    }

    @Test func namedCheckpointsAreTheWindow() throws {
        let folders = [10, 20, 30].map { Fixtures.checkpoint(Fixtures.f32Run, $0) }
        let result = try MWADProcess.run(["merge", "--method", "linear", "--weighting", "loss", "--checkpoints"] + folders + ["--dry-run"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("loss weighting on train_loss (penalty 1) · linear method · window the last 3\n"), "\(result.stdout)")
        let withWindow = try usage(["merge", "--method", "linear", "--weighting", "loss", "--checkpoints"] + folders + ["--window", "5", "--dry-run"])
        #expect(withWindow.contains("--window 5 cannot go with --checkpoints: the window is the 3 folders given."))
    }

    @Test func outputParentsAreCreated() throws {
        let out = dir.file("new/folder/merged")
        let result = try MWADProcess.run(["merge", "--method", "linear", "--weighting", "loss", "--window", "5", Fixtures.f32Run, "--out", out, "--window", "2"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(FileManager.default.fileExists(atPath: "\(out)/mwa_merge.json"))
        let mode = try FileManager.default.attributesOfItem(atPath: dir.file("new"))[.posixPermissions] as? Int
        #expect(mode == 0o755)

        let run = dir.file("run")
        try FileManager.default.createDirectory(atPath: run, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: Fixtures.checkpoint(Fixtures.f32Run, 10), toPath: "\(run)/checkpoint-10")
        let daemonOut = dir.file("srv/mwad/x/merged")
        let once = try MWADProcess.run(["run", "--watch", run, "--out", daemonOut, "--ledger", dir.file("state/ledger.sqlite"), "--once"])
        #expect(once.status == 0, "\(once.stderr)")
        #expect(FileManager.default.fileExists(atPath: "\(daemonOut)/mwa_merge.json"))
    }

    @Test func aMissingConfigFileIsNamedAndExits78() throws {
        let path = dir.file("nope.yaml")
        let result = try MWADProcess.run(["run", "--config", path, "--once"])
        #expect(result.status == 78)
        #expect(result.stderr == "mwad: error: \(path): no such configuration file\n")
        let bad = try MWADProcess.run(["run", "--watch", dir.path, "--once"], environment: ["MWAD_MERGE_WINDOW": "five"])
        #expect(bad.status == 78, "an invalid value is a configuration error too: \(bad.stderr)")
    }

    @Test func statusWithBothLedgerAndWatchSaysNotBoth() throws {
        let stderr = try usage(["status", "--ledger", "x", "--watch", "y"])
        #expect(stderr.contains("Give either --ledger or --watch/--state-dir, not both."))
    }

    /// The state directory follows the ledger unless given.
    @Test func retainedCopiesLiveBesideTheLedgerOrInStateDir() throws {
        let run = dir.file("run")
        try FileManager.default.createDirectory(atPath: run, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: Fixtures.checkpoint(Fixtures.f32Run, 10), toPath: "\(run)/checkpoint-10")
        let beside = try MWADProcess.run(["run", "--watch", run, "--out", dir.file("o1"), "--ledger", dir.file("a/ledger.sqlite"), "--once"])
        #expect(beside.status == 0, "\(beside.stderr)")
        #expect(FileManager.default.fileExists(atPath: dir.file("a/retained")))
        let given = try MWADProcess.run(["run", "--watch", run, "--out", dir.file("o2"), "--ledger", dir.file("b/ledger.sqlite"),
                                         "--state-dir", dir.file("c"), "--once"])
        #expect(given.status == 0, "\(given.stderr)")
        #expect(FileManager.default.fileExists(atPath: dir.file("c/retained")))
        #expect(!FileManager.default.fileExists(atPath: dir.file("b/retained")))
    }

    /// A daemon given --state-dir keeps its ledger outside the searched places: status
    /// --watch says to give the same --state-dir, and --state-dir finds it.
    @Test func statusFindsALedgerMadeWithStateDir() throws {
        let run = dir.file("run")
        try FileManager.default.createDirectory(atPath: run, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: Fixtures.checkpoint(Fixtures.f32Run, 10), toPath: "\(run)/checkpoint-10")
        let environment = ["XDG_STATE_HOME": dir.file("xdg"), "STATE_DIRECTORY": ""]
        let daemon = try MWADProcess.run(["run", "--watch", run, "--out", dir.file("o"), "--state-dir", dir.file("s"), "--once"],
                                         environment: environment)
        #expect(daemon.status == 0, "\(daemon.stderr)")
        let lost = try MWADProcess.run(["status", "--watch", run], environment: environment)
        #expect(lost.status == 1 && lost.stderr.contains("if mwad ran with --state-dir DIR (or state_directory in its config), give the same --state-dir DIR"),
                "\(lost.stderr)")
        let found = try MWADProcess.run(["status", "--state-dir", dir.file("s")], environment: environment)
        #expect(found.status == 0 && found.stdout.contains("checkpoint-10"), "\(found.stdout)\(found.stderr)")
    }

    /// An output the trainer would delete, or the run itself, is refused with the
    /// reason by mwad merge (64) and mwad run (78); the default beside the checkpoints is fine.
    @Test func anOutputInsideACheckpointOrTheRunItselfIsRefused() throws {
        let run = Fixtures.f32Run
        for (out, reason) in [("\(run)/checkpoint-80/merged", "is inside the checkpoint folder checkpoint-80, which the trainer's rotation"),
                              (run, "is the run directory itself")] {
            let merge = try usage(["merge", run, "--out", out, "--dry-run"])
            #expect(merge.contains("--out \(out) \(reason)"), "\(merge)")
            let daemon = try MWADProcess.run(["run", "--watch", run, "--out", out, "--ledger", dir.file("l/ledger.sqlite"), "--once"])
            #expect(daemon.status == 78 && daemon.stderr.contains(reason), "\(daemon.stderr)")
        }
        #expect(try MWADProcess.run(["merge", run, "--out", dir.file("run/mwa-merged"), "--dry-run"]).status == 0)
        // A torchtune epoch folder, as the layout names it (its step from the run's config).
        let torchtune = Fixtures.root + "/torchtune-run"
        let daemon = try MWADProcess.run(["run", "--watch", torchtune, "--out", "\(torchtune)/epoch_0/merged", "--ledger", dir.file("t/ledger.sqlite"), "--once"])
        #expect(daemon.status == 78 && daemon.stderr.contains("is inside the checkpoint folder epoch_0, which the trainer's rotation"), "\(daemon.stderr)")
    }

    /// A kohya run's merge is one file, so the run folder itself may take it: beside the
    /// checkpoints, as kohya puts its final file, and the daemon's next look ignores it.
    @Test func aKohyaRunMayPublishIntoItsOwnFolder() throws {
        let run = dir.file("kohya")
        try FileManager.default.copyItem(atPath: "\(Fixtures.root)/flat-kohya", toPath: run)
        let merge = try MWADProcess.run(["merge", run, "--out", run, "--window", "2"])
        #expect(merge.status == 0 && merge.stdout.contains("into \(run)/pixel-mwa.safetensors"), "\(merge.stderr)")
        for _ in 0..<2 {  // the second look sees its own merge in the folder: no new checkpoint
            let daemon = try MWADProcess.run(["run", "--watch", run, "--out", run, "--ledger", dir.file("l/ledger.sqlite"), "--once", "--window", "2"])
            #expect(daemon.status == 0, "\(daemon.stderr)")
        }
        let status = try MWADProcess.run(["status", "--ledger", dir.file("l/ledger.sqlite"), "--json"])
        let report = try #require(try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any])
        #expect((report["merge"] as? [String: Any])?["id"] as? Int == 1, "one merge: its own file is no checkpoint")
        #expect((report["merge"] as? [String: Any])?["output"] as? String == "\(run)/pixel-mwa.safetensors")
        #expect((report["skipped"] as? [Any])?.isEmpty == true, "\(status.stdout)")
        #expect((report["counts"] as? [String: Any])?["rejected"] as? Int == 0, "\(status.stdout)")
    }

    /// run --help states the precedence the README does: flags, then MWAD_*, then the file.
    @Test func runHelpStatesThePrecedenceAsTheReadmeDoes() throws {
        let help = try MWADProcess.run(["run", "--help"]).stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(help.contains("A setting is taken from these flags, then MWAD_* environment variables, then the --config file (YAML), then the default"), "\(help)")
        let readme = try String(contentsOfFile: Fixtures.root + "/../../README.md", encoding: .utf8)
        #expect(readme.contains("flags, then `MWAD_*` variables,\nthen the file"))
    }
}
