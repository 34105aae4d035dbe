import Foundation
import MWADTestKit
import Testing

/// `mwad status` with no argument lists the ledgers it can find; `--watch` finds a
/// run's ledger in the same places (here `$XDG_STATE_HOME/mwad/*/` and `$STATE_DIRECTORY`).
@Suite struct StatusDiscoveryTests {
    let dir = TemporaryDirectory()

    func makeRun(_ name: String, steps: [Int], environment: [String: String]) throws -> String {
        let run = dir.file(name)
        try FileManager.default.createDirectory(atPath: run, withIntermediateDirectories: true)
        for step in steps { try FileManager.default.copyItem(atPath: Fixtures.checkpoint(Fixtures.f32Run, step), toPath: "\(run)/checkpoint-\(step)") }
        let result = try MWADProcess.run(["run", "--watch", run, "--once"], environment: environment)
        #expect(result.status == 0, "\(result.stderr)")
        return run
    }

    @Test func listsTheLedgersItFinds() throws {
        let xdg = ["XDG_STATE_HOME": dir.file("xdg")]
        let a = try makeRun("run-a", steps: [10, 20], environment: xdg)
        let systemd = ["STATE_DIRECTORY": dir.file("var-lib-mwad-b")]
        let b = try makeRun("run-b", steps: [30], environment: systemd)
        let both = xdg.merging(systemd) { $1 }
        let list = try MWADProcess.run(["status"], environment: both)
        #expect(list.status == 0, "\(list.stderr)")
        let lines = list.stdout.split(separator: "\n")
        #expect(lines.filter { $0.contains(dir.path) }.count == 2, "\(list.stdout)")  // (a machine may have its own in /var/lib/mwad)
        #expect(lines[0].hasPrefix("ledger"))
        #expect(lines.contains { $0.contains(a) && $0.contains("stopped") && $0.contains(" 20 ") }, "\(list.stdout)")
        #expect(lines.contains { $0.contains(b) && $0.contains(dir.file("var-lib-mwad-b/ledger.sqlite")) }, "\(list.stdout)")

        let found = try MWADProcess.run(["status", "--watch", b], environment: both)
        #expect(found.status == 0, "\(found.stderr)")
        #expect(found.stdout.contains("ledger      \(dir.file("var-lib-mwad-b/ledger.sqlite"))"), "\(found.stdout)")
    }

    @Test func saysWhereItLookedWhenThereIsNone() throws {
        let result = try MWADProcess.run(["status"], environment: ["XDG_STATE_HOME": dir.file("empty")])
        #expect(result.status == 1)
        #expect(result.stderr.contains("no ledger found in $STATE_DIRECTORY, /var/lib/mwad/*/ or $XDG_STATE_HOME/mwad/*/"))
    }
}
