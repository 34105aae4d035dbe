import Foundation
import Ledger
import MWADTestKit
import Synchronization
import Testing
import Settings
import Weigh

/// `mwad status` through the real binary.
@Suite struct StatusCommandTests {
    let dir = TemporaryDirectory()

    func failing(_ arguments: [String]) throws -> String {
        let result = try MWADProcess.run(arguments)
        #expect(result.status == 1)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
        return result.stderr.trimmingCharacters(in: .newlines)
    }

    /// A ledger made by `mwad merge --ledger` on the real F32 run.
    func mergedLedger() throws -> String {
        let ledger = dir.file("state/ledger.sqlite")
        let result = try MWADProcess.run(["merge", "--method", "linear", "--weighting", "loss", "--window", "5", Fixtures.f32Run, "--out", dir.file("merged"), "--ledger", ledger, "--window", "3"])
        #expect(result.status == 0, "\(result.stderr)")
        return ledger
    }

    @Test func mergeRecordsItsMembersAndStatusShowsThem() throws {
        let ledger = try mergedLedger()
        let result = try MWADProcess.run(["status", "--ledger", ledger, "--json"])
        #expect(result.status == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let merge = try #require(object["merge"] as? [String: Any])
        let members = try #require(merge["members"] as? [[String: Any]])
        #expect(members.compactMap { $0["step"] as? Int } == [60, 70, 80])
        #expect(merge["output"] as? String == dir.file("merged"))
        let daemon = try #require(object["daemon"] as? [String: Any])
        #expect(daemon["state"] as? String == "never")
        let human = try MWADProcess.run(["status", "--ledger", ledger])
        #expect(human.stdout.contains("merge       #1 at "))
        #expect(human.stdout.contains("checkpoint-80    3.677218  0.336822  █████████████▌"))
    }

    @Test func missingLedger() throws {
        let line = try failing(["status", "--ledger", dir.file("nothing.sqlite")])
        #expect(line == "mwad: error: \(dir.file("nothing.sqlite")): no ledger there (has mwad run for this directory?)")
    }

    @Test func nonSQLiteFile() throws {
        let path = dir.write("ledger.sqlite", String(repeating: "not a database\n", count: 20))
        #expect(try failing(["status", "--ledger", path]) == "mwad: error: \(path): not an mwad ledger (not an SQLite database)")
    }

    /// A user who may read the ledger but write neither it nor its folder: with the
    /// daemon's -wal and -shm files present, and with them gone (daemon stopped).
    @Test func readOnlyLedgerOfAnotherUser() throws {
        let ledger = try mergedLedger()
        let folder = (ledger as NSString).deletingLastPathComponent
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: dir.path)
        try FileManager.default.setAttributes([.posixPermissions: 0o555], ofItemAtPath: folder)
        for file in try FileManager.default.contentsOfDirectory(atPath: folder) {
            try FileManager.default.setAttributes([.posixPermissions: 0o444], ofItemAtPath: "\(folder)/\(file)")
        }
        let withShm = try runAsOtherUser(["status", "--ledger", ledger, "--json"])
        #expect(withShm.status == 0, "\(withShm.stderr)")
        #expect(withShm.stdout.contains("\"output_sha256\""))

        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: folder)
        for sidecar in ["-wal", "-shm"] { try? FileManager.default.removeItem(atPath: ledger + sidecar) }
        try FileManager.default.setAttributes([.posixPermissions: 0o555], ofItemAtPath: folder)
        let before = try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
        #expect(before == ["ledger.sqlite", "ledger.sqlite.lock"])  // the writer's lock file stays, unlocked
        let without = try runAsOtherUser(["status", "--ledger", ledger])
        #expect(without.status == 0, "\(without.stderr)")
        #expect(without.stdout.contains("3 ingested"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).sorted() == before)  // wrote nothing
    }

    /// As root, drops to `nobody` (root ignores permission bits); otherwise the test
    /// user is already subject to them.
    func runAsOtherUser(_ arguments: [String]) throws -> MWADProcess.Result {
        guard geteuid() == 0 else { return try MWADProcess.run(arguments) }
        return try MWADProcess.run(["--reuid=65534", "--regid=65534", "--clear-groups", MWADProcess.executable] + arguments,
                                   executable: "/usr/bin/setpriv")
    }

    /// A writer appending checkpoints and merges as fast as it can while status runs
    /// again and again in other processes: every status parses and is consistent, and
    /// the writer, failing at once on SQLITE_BUSY, never fails.
    @Test func statusWhileAWriterWrites() throws {
        let path = dir.file("busy/ledger.sqlite")
        let ledger = try Ledger(path: path, busyTimeout: 0)
        try ledger.registerRun(watch: "/run", output: "/out", settings: MergeSettings(window: 3))
        let stop = Atomic<Bool>(false)
        let outcome = Mutex<(rounds: Int, errors: [String])>((0, []))
        let finished = DispatchSemaphore(value: 0)
        // A thread of its own: the test pool's threads block on child processes.
        let writer = Thread {
            defer { finished.signal() }
            var errors: [String] = []
            var ids: [Int64] = []
            var round = 0
            while !stop.load(ordering: .relaxed) && round < 5000 {
                round += 1
                do {
                    let row = CheckpointRecord(step: Int64(round), sourcePath: "/run/checkpoint-\(round)", adapterSHA256: "\(round)",
                                               trainLoss: 4 / Double(round), status: .ingested, discoveredAt: Date(), ingestedAt: Date())
                    ids.append(try ledger.record(row).current.id!)
                    let window = ids.suffix(3)
                    let weights = window.map { _ in 1.0 / Double(window.count) }
                    try ledger.record(merge: MergeRecord(createdAt: Date(), settings: MergeSettings(window: 3, weighting: "uniform", penalty: 0).effective,
                                                         outputPath: "/out", outputSHA256: "x", durationSeconds: 0),
                                      members: zip(window, weights).map { MergeMemberInput(checkpointID: $0, weight: $1, metricValue: nil) })
                } catch {
                    errors.append("\(error)")
                }
                outcome.withLock { $0 = (round, errors) }
            }
        }
        writer.start()
        var reads = 0
        for _ in 0..<20 {
            let result = try MWADProcess.run(["status", "--ledger", path, "--json", "--all"])
            #expect(result.status == 0, "\(result.stderr)")
            try checkConsistent(result.stdout)
            reads += 1
        }
        stop.store(true, ordering: .relaxed)
        finished.wait()
        let (rounds, errors) = outcome.withLock { $0 }
        #expect(errors.isEmpty, "\(errors.prefix(3))")
        #expect(rounds > 20, "the writer must have run alongside the readers")
        #expect(reads == 20)
    }

    func checkConsistent(_ json: String) throws {
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let checkpoints = try #require(object["checkpoints"] as? [[String: Any]])
        let byID = Dictionary(uniqueKeysWithValues: checkpoints.map { ($0["id"] as! Int, $0["step"] as! Int) })
        guard let merge = object["merge"] as? [String: Any] else { return }  // before the first merge
        let members = try #require(merge["members"] as? [[String: Any]])
        #expect(!members.isEmpty)
        let total = members.compactMap { $0["weight"] as? Double }.reduce(0, +)
        #expect(abs(total - 1) < 1e-9)
        for member in members {
            let id = try #require(member["checkpoint_id"] as? Int)
            #expect(byID[id] == member["step"] as? Int, "member \(id) must exist with its step")
        }
    }

    /// A folder given as the ledger is named as such, with the file to give instead
    /// (it said "disk I/O error").
    @Test func aFolderGivenAsTheLedgerIsNamed() throws {
        let ledger = dir.file("state/ledger.sqlite")
        #expect(try MWADProcess.run(["merge", "--method", "linear", Fixtures.f32Run, "--out", dir.file("merged"), "--ledger", ledger]).status == 0)
        let result = try MWADProcess.run(["status", "--ledger", dir.file("state")])
        #expect(result.status == 1 && result.stderr.contains("a folder; its ledger is \(ledger): give that to --ledger"), "\(result.stderr)")
        #expect(!result.stderr.contains("disk I/O error"))
    }
}
