import Foundation
import HostFileSystem
import Ledger
import Logging

/// Runs the `on_merge` hook after each publish, one at a time and in merge order, in
/// the background: ingest never waits for it. Its outcome is recorded on the merge.
final class HookQueue {
    private let hook: MergeHook?
    private let ledger: Ledger
    private let logger: Logger
    private var last: Task<Void, Never>?

    init(argv: [String], timeout: Double, clock: DaemonClock = .system, ledger: Ledger, logger: Logger) {
        hook = argv.isEmpty ? nil : MergeHook(argv: argv, timeout: timeout, clock: clock)
        self.ledger = ledger
        self.logger = logger
    }

    /// Queues the hook for merge `mergeID`, published to `output` up to `step`.
    func enqueue(output: String, step: Int64, mergeID: Int64) {
        guard let hook else { return }
        let (ledger, logger, previous) = (self.ledger, self.logger, last)
        last = Task {
            await previous?.value
            let outcome = await hook.run(output: output, step: step, mergeID: mergeID)
            try? ledger.setHookStatus(outcome, mergeID: mergeID)
            if outcome == "ok" {
                logger.info("on_merge hook for merge #\(mergeID): ok")
            } else {
                logger.warning("on_merge hook for merge #\(mergeID): \(outcome)")
                try? ledger.recordError("on_merge hook for merge #\(mergeID): \(outcome)")
            }
        }
    }

    /// Waits for the queued hooks (at shutdown: a hook started is let finish).
    func drain() async {
        guard let last else { return }
        logger.info("waiting for the on_merge hook to finish")
        await last.value
    }
}
