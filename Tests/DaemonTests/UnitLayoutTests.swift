import Foundation
import MWADTestKit
import Testing

/// The systemd unit's layout, in a mount namespace that does what `ProtectSystem=strict`
/// and `ReadWritePaths=` do: everything read-only, then the listed paths bound writable.
/// (Needs root for `unshare -m`, as CI runs.)
@Suite(.enabled(if: geteuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/unshare")))
struct UnitLayoutTests {
    let dir = TemporaryDirectory("mwad-unit")
    let state = TemporaryDirectory("mwad-unit-state")
    var root: String { dir.path }

    init() throws {
        try FileManager.default.createDirectory(atPath: dir.file("run"), withIntermediateDirectories: true)
        for step in [10, 20] {
            try FileManager.default.copyItem(atPath: Fixtures.checkpoint(Fixtures.f32Run, step), toPath: dir.file("run/checkpoint-\(step)"))
        }
        try FileManager.default.createDirectory(atPath: dir.file("srv/mwad/x/merged"), withIntermediateDirectories: true)
    }

    /// `mwad run --once` with `output`, the whole tree read-only but `writable`.
    func once(output: String, writable: [String]) throws -> MWADProcess.Result {
        let binds = writable.map { "mount --bind '\($0)' '\($0)' && mount -o remount,bind,rw '\($0)' '\($0)' && " }.joined()
        let script = "mount --bind '\(root)' '\(root)' && mount -o remount,bind,ro '\(root)' '\(root)' && \(binds)"
            + "exec '\(MWADProcess.executable)' run --watch '\(dir.file("run"))' --out '\(output)' --ledger '\(state.file("ledger.sqlite"))' --once"
        return try MWADProcess.run(["-m", "--propagation", "private", "sh", "-c", script], executable: "/usr/bin/unshare")
    }

    @Test func theRecommendedLayoutPublishes() throws {
        let result = try once(output: dir.file("srv/mwad/x/merged"), writable: [dir.file("srv/mwad/x")])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(FileManager.default.fileExists(atPath: dir.file("srv/mwad/x/merged/mwa_merge.json")))
    }

    @Test func theOutputAsAMountPointIsRefusedWithWhatToChange() throws {
        let output = dir.file("srv/mwad/x/merged")
        let result = try once(output: output, writable: [output])
        #expect(result.status == 78, "\(result.stderr)")
        #expect(result.stderr.contains("the output \(output) is a mount point"), "\(result.stderr)")
        #expect(result.stderr.contains("ReadWritePaths=\(dir.file("srv/mwad/x"))"))
    }

    @Test func aReadOnlyParentIsRefusedWithWhatToChange() throws {
        let result = try once(output: dir.file("srv/mwad/x/merged"), writable: [])
        #expect(result.status == 78, "\(result.stderr)")
        #expect(result.stderr.contains("cannot write \(dir.file("srv/mwad/x")) (Read-only file system)"), "\(result.stderr)")
        #expect(result.stderr.contains("ReadWritePaths=\(dir.file("srv/mwad/x"))"))
    }
}
