import Foundation
import Ledger
import Status
import Testing

@Suite struct DaemonStateTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    func record(beatAgo: Double, stopped: Bool = false, host: String = "gpu01") -> DaemonRecord {
        DaemonRecord(pid: 7, host: host, version: "0.1.0", startedAt: t0, heartbeatAt: t0.addingTimeInterval(-beatAgo),
                     heartbeatInterval: 10, stoppedAt: stopped ? t0 : nil)
    }

    func state(_ record: DaemonRecord?, alive: Bool = true) -> DaemonState {
        DaemonState.of(record, now: t0, host: "gpu01", processExists: { _ in alive })
    }

    @Test func classifies() {
        #expect(state(nil) == .never)
        #expect(state(record(beatAgo: 5)) == .running)
        #expect(state(record(beatAgo: 30)) == .running)
        #expect(state(record(beatAgo: 31)) == .stale)
        #expect(state(record(beatAgo: 5, stopped: true)) == .stopped)
        #expect(state(record(beatAgo: 1), alive: false) == .stale)  // killed: the pid is gone
        #expect(state(record(beatAgo: 1, host: "gpu02"), alive: false) == .running)  // another host's pid is not checked
    }

    @Test func realProcessLiveness() {
        #expect(DaemonState.processExists(getpid()))
        #expect(!DaemonState.processExists(Int32.max))
    }
}
