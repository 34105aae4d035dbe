import Foundation
import Ledger
import MWADTestKit
import Testing

/// The on_merge hook, run by the real daemon.
@Suite(.serialized) struct MergeHookTests {
    func script(_ live: LiveRun, _ body: String) throws -> String {
        let path = live.dir.write("hook.sh", "#!/bin/sh\n\(body)\n")
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
        return path
    }

    func hookStatus(_ live: LiveRun) -> String? {
        live.snapshot()?.merge?.hookStatus
    }

    @Test func runsWithTheMergeInItsEnvironment() throws {
        let live = try LiveRun()
        let seen = live.dir.file("seen.txt")
        let hook = try script(live, "echo \"$MWAD_OUTPUT|$MWAD_STEP|$MWAD_MERGE_ID\" > \(seen)")
        let daemon = try live.start(environment: ["MWAD_HOOK_ON_MERGE": hook])
        try live.moveIn(step: 10)
        try live.moveIn(step: 20)
        #expect(DaemonProcess.waitUntil { (try? String(contentsOfFile: seen, encoding: .utf8))?.contains("|20|") == true })
        #expect(DaemonProcess.waitUntil { hookStatus(live) == "ok" })
        #expect(daemon.stop() == 0)
        let line = try String(contentsOfFile: seen, encoding: .utf8).trimmingCharacters(in: .newlines)
        let merge = try #require(live.snapshot()?.merge)
        #expect(line == "\(live.output)|20|\(merge.id!)")
    }

    @Test func aFailingHookIsRecordedAndTheDaemonGoesOn() throws {
        let live = try LiveRun()
        let daemon = try live.start(environment: ["MWAD_HOOK_ON_MERGE": try script(live, "exit 3")])
        try live.moveIn(step: 10)
        #expect(DaemonProcess.waitUntil { hookStatus(live) == "exit status 3" }, "\(daemon.log)")
        try live.moveIn(step: 20)
        #expect(live.waitForMerge(through: 20))
        #expect(daemon.stop() == 0)
        #expect(daemon.log.contains("WARNING on_merge hook for merge #1: exit status 3"))
        #expect(live.snapshot()?.daemon?.lastError?.contains("exit status 3") == true)
    }

    @Test func aHookThatHangsIsKilledAfterItsTimeout() throws {
        let live = try LiveRun()
        let daemon = try live.start(environment: ["MWAD_HOOK_ON_MERGE": try script(live, "exec sleep 600"), "MWAD_HOOK_TIMEOUT": "1"])
        try live.moveIn(step: 10)
        #expect(DaemonProcess.waitUntil(timeout: 30) { hookStatus(live) == "timed out after 1 s" }, "\(daemon.log)")
        #expect(daemon.stop() == 0)
    }

    @Test func aHookThatCannotStart() throws {
        let live = try LiveRun()
        let daemon = try live.start(environment: ["MWAD_HOOK_ON_MERGE": live.dir.file("no-such-program")])
        try live.moveIn(step: 10)
        #expect(DaemonProcess.waitUntil { hookStatus(live)?.hasPrefix("failed to start") == true }, "\(daemon.log)")
        #expect(daemon.stop() == 0)
    }
}
