import Foundation
import MWADTestKit
import Testing

/// A state directory on a read-only file system: the error says so, naming the folder
/// and the setting to change (it said "cannot open the lock file: No such file or
/// directory"). (Needs root for `unshare -m`, as CI runs.)
@Suite(.enabled(if: geteuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/unshare")))
struct ReadOnlyStateTests {
    @Test func aReadOnlyStateDirectoryIsNamedWithTheReason() throws {
        let dir = TemporaryDirectory()
        let readOnly = dir.file("ro")
        try FileManager.default.createDirectory(atPath: readOnly, withIntermediateDirectories: true)
        let script = "mount -t tmpfs -o ro none '\(readOnly)' && exec '\(MWADProcess.executable)' run --watch '\(Fixtures.f32Run)'"
            + " --state-dir '\(readOnly)/state' --out '\(dir.file("out"))' --once"
        let result = try MWADProcess.run(["-m", "--propagation", "private", "sh", "-c", script], executable: "/usr/bin/unshare")
        #expect(result.status == 1, "\(result.stderr)")
        #expect(result.stderr.contains("\(readOnly)/state: cannot create the state directory: Read-only file system; give a writable --state-dir"),
                "\(result.stderr)")
    }
}
