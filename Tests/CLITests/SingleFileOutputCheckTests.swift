import Foundation
import MWADTestKit
import Testing

/// A kohya run's merge is one file renamed into the output folder, so that folder (not
/// its parent) must be writable: checked at start, exit 78 with what to change. Runs
/// as `nobody` through setpriv (root would write anywhere), so it needs root, as CI runs.
@Suite(.enabled(if: geteuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv")))
struct SingleFileOutputCheckTests {
    @Test func anOutputFolderThatCannotBeWrittenIsRefusedAtStart() throws {
        let dir = TemporaryDirectory()
        try FileManager.default.setAttributes([.posixPermissions: 0o777], ofItemAtPath: dir.path)
        let run = dir.file("run")
        try FileManager.default.copyItem(atPath: "\(Fixtures.root)/flat-kohya", toPath: run)
        let loras = dir.file("loras")  // root's, 0755: nobody can rename nothing into it
        try FileManager.default.createDirectory(atPath: loras, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        let result = try MWADProcess.run(["--reuid=65534", "--regid=65534", "--clear-groups", MWADProcess.executable,
                                          "run", "--watch", run, "--state-dir", dir.file("state"), "--out", loras, "--once"],
                                         environment: MWADProcess.environment.merging(["HOME": dir.path]) { $1 }, executable: "/usr/bin/setpriv")
        #expect(result.status == 78, "\(result.stderr)")
        #expect(result.stderr.contains("cannot write \(loras) (Permission denied), where each new merge of \(loras)/NAME-mwa.safetensors"),
                "the folder, not its parent: \(result.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: loras).isEmpty)
    }
}
