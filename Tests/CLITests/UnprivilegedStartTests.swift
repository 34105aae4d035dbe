import Foundation
import MWADTestKit
import Testing

/// As an unprivileged user, libdispatch's event thread cannot get the nice -4 it asks
/// for and libdispatch reports it through syslog at notice level: under systemd a
/// `journalctl -p notice` line at every start. Under systemd (JOURNAL_STREAM set) mwad
/// routes that report to stderr, which journald files at info; in a terminal nothing
/// changes (the report stays out of the terminal). Runs as `nobody` through setpriv,
/// so it needs root, as CI runs.
@Suite(.enabled(if: geteuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv")))
struct UnprivilegedStartTests {
    let line = "Failed to set thread priority for worker thread"

    private func runAsNobody(_ extra: [String: String]) throws -> MWADProcess.Result {
        let dir = TemporaryDirectory()
        try FileManager.default.setAttributes([.posixPermissions: 0o777], ofItemAtPath: dir.path)
        let run = dir.file("run")
        try FileManager.default.createDirectory(atPath: run, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: Fixtures.checkpoint(Fixtures.f32Run, 10), toPath: "\(run)/checkpoint-10")
        let inherited = MWADProcess.environment.filter { $0.key != "JOURNAL_STREAM" && $0.key != "LIBDISPATCH_LOG" }
        let environment = inherited.merging(extra.merging(["HOME": dir.path]) { $1 }) { $1 }
        return try MWADProcess.run(["--reuid=65534", "--regid=65534", "--clear-groups", MWADProcess.executable,
                                    "run", "--watch", run, "--state-dir", dir.file("state"), "--out", dir.file("out"), "--once"],
                                   environment: environment, executable: "/usr/bin/setpriv")
    }

    @Test func underSystemdTheReportGoesToStderrNotSyslog() throws {
        let result = try runAsNobody(["JOURNAL_STREAM": "8:1234"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains(line), "the report should reach stderr (journald: info), not syslog (notice): \(result.stderr)")
    }

    @Test func inATerminalTheReportStaysOutOfSight() throws {
        let result = try runAsNobody([:])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(!result.stderr.contains(line), "\(result.stderr)")
    }
}
