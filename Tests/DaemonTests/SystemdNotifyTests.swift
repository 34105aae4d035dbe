import Daemon
import Foundation
import MWADTestKit
import Testing

/// sd_notify against a real AF_UNIX datagram socket, from the real daemon.
@Suite(.serialized) struct SystemdNotifyTests {
    @Test(arguments: ["path", "abstract"])
    func readyStatusWatchdogStoppingInOrder(_ kind: String) throws {
        let live = try LiveRun()
        let name = kind == "path" ? live.dir.file("notify.sock") : "@mwad-test-\(UUID().uuidString.prefix(8))"
        let socket = try NotifySocket(name)
        try TrainerWriter(runDirectory: live.run).save(step: 10)
        let daemon = try live.start(environment: ["NOTIFY_SOCKET": name, "WATCHDOG_USEC": "400000"])
        let early = socket.receive(timeout: 20) { messages in messages.filter { $0 == "WATCHDOG=1" }.count >= 2 }
        #expect(daemon.stop() == 0)
        let late = socket.receive(timeout: 10) { $0.contains("STOPPING=1") }
        let messages = early + late
        let ready = try #require(messages.firstIndex(of: "READY=1"), "\(messages)")
        let status = try #require(messages.firstIndex { $0.hasPrefix("STATUS=") })
        let watchdog = try #require(messages.firstIndex(of: "WATCHDOG=1"))
        let stopping = try #require(messages.firstIndex(of: "STOPPING=1"))
        #expect(ready < status && status < watchdog && watchdog < stopping, "\(messages)")
        #expect(messages[status].contains("step 10 · 1 member in merge #1"), "\(messages[status])")
        #expect(messages.filter { $0 == "WATCHDOG=1" }.count >= 2)  // every 0.2 s, half of WATCHDOG_USEC
    }

    @Test func watchdogIntervalIsHalfOfWatchdogUsecForThisProcess() {
        #expect(SystemdNotifier(environment: ["WATCHDOG_USEC": "30000000"], pid: 7).watchdogInterval == 15)
        #expect(SystemdNotifier(environment: ["WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "8"], pid: 7).watchdogInterval == nil)
        #expect(SystemdNotifier(environment: [:]).isActive == false)
        #expect(SystemdNotifier(environment: [:]).send("READY=1") == false)
    }
}
