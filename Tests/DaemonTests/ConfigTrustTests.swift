import Foundation
import MWADTestKit
import Testing

/// A config that names a command is read only when no one but its owner can change it
/// (sshd's StrictModes): otherwise exit 78 naming the file, its mode and owner, and the
/// command is never run. Run as root, as CI runs (the ownership cases need chown).
@Suite(.enabled(if: geteuid() == 0)) struct ConfigTrustTests {
    let dir = TemporaryDirectory("mwad-trust")

    /// Writes a config into `folder` whose evaluator (or hook) touches a marker file.
    func setUp(folder: String? = nil, key: String = "eval", mode: mode_t = 0o644) throws -> (config: String, marker: String, run: String) {
        let run = dir.file("run")
        if !FileManager.default.fileExists(atPath: run) {
            let writer = TrainerWriter(runDirectory: run)
            for step in [10, 20] { try writer.save(step: step) }
        }
        let folder = folder ?? dir.file("etc")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let marker = dir.file("ran-\(UUID().uuidString.prefix(6))")
        let yaml = key == "eval"
            ? "eval:\n  command: [/usr/bin/touch, \(marker)]\n"
            : "hook:\n  on_merge: [/usr/bin/touch, \(marker)]\n"
        let config = "\(folder)/mwad.yaml"
        try yaml.write(toFile: config, atomically: false, encoding: .utf8)
        chmod(config, mode)
        return (config, marker, run)
    }

    func once(_ config: String, _ run: String) throws -> MWADProcess.Result {
        try MWADProcess.run(["run", "--once", "--config", config, "--watch", run, "--out", dir.file("merged-\(UUID().uuidString.prefix(6))"),
                             "--ledger", dir.file("state-\(UUID().uuidString.prefix(6))/ledger.sqlite")])
    }

    @Test(arguments: ["eval", "hook"])
    func aWorldWritableConfigWithACommandIsRefused(_ key: String) throws {
        let (config, marker, run) = try setUp(key: key, mode: 0o666)
        let result = try once(config, run)
        #expect(result.status == 78, "\(result.stderr)")
        #expect(result.stderr.contains("mwad: error: \(config): names a command (\(key == "eval" ? "eval.command" : "hook.on_merge")) but is writable by anyone (mode 0666, owner root (uid 0))"), "\(result.stderr)")
        #expect(result.stderr.contains("chmod go-w \(config)"))
        #expect(!FileManager.default.fileExists(atPath: marker), "the command was run")
    }

    @Test func aConfigOwnedByAnotherUserIsRefused() throws {
        let (config, marker, run) = try setUp()
        #expect(chown(config, DaemonProcess.unprivilegedID, DaemonProcess.unprivilegedID) == 0)
        let result = try once(config, run)
        #expect(result.status == 78, "\(result.stderr)")
        #expect(result.stderr.contains("is owned by nobody (uid \(DaemonProcess.unprivilegedID)), not by root or root (uid 0), the user mwad runs as"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: marker))
    }

    @Test func aFolderOthersCanWriteWithoutTheStickyBitIsRefused() throws {
        let open = dir.file("shared")
        let (config, marker, run) = try setUp(folder: open)
        chmod(open, 0o777)
        let result = try once(config, run)
        #expect(result.status == 78, "\(result.stderr)")
        #expect(result.stderr.contains("its folder \(open) is writable by anyone without the sticky bit (mode 0777"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: marker))
        chmod(open, 0o1777)  // as /tmp: the sticky bit keeps others from replacing the file
        _ = try once(config, run)
        #expect(FileManager.default.fileExists(atPath: marker), "a sticky folder is fine")
    }

    @Test func aConfigOnlyItsOwnerCanChangeRunsItsCommand() throws {
        let (config, marker, run) = try setUp(mode: 0o644)
        let result = try once(config, run)
        #expect(!result.stderr.contains("names a command"), "\(result.stderr)")
        #expect(FileManager.default.fileExists(atPath: marker), "\(result.stderr)")
    }

    @Test func aConfigWithoutCommandsIsNotChecked() throws {
        let (_, _, run) = try setUp()
        let config = dir.file("plain.yaml")
        try "merge:\n  window: 2\n".write(toFile: config, atomically: false, encoding: .utf8)
        chmod(config, 0o666)
        let result = try once(config, run)
        #expect(result.status == 0, "\(result.stderr)")
    }
}
