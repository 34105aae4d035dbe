import Foundation
import Ledger
import Logging

/// Logs and records failures so that a fault that persists across passes (a full
/// disk, a locked ledger) is one error line, not one per pass: the same failure again
/// is logged at debug level only, until something succeeds in between.
final class FailureReporter {
    private let ledger: Ledger
    private let logger: Logger
    private var lastReported: String?
    /// Whether anything failed since ``clear()``: what `--once` answers with.
    private(set) var failedSinceClear = false

    init(ledger: Ledger, logger: Logger) {
        self.ledger = ledger
        self.logger = logger
    }

    /// Reports that `what` failed with `error`.
    func report(_ what: String, _ error: any Error) {
        let text = "\(what): \(error)"
        failedSinceClear = true
        // Keyed by what failed: the error's text may name a different temporary path each time.
        defer { lastReported = what }
        guard lastReported != what else {
            logger.debug("\(text)")
            return
        }
        logger.error("\(text)")
        try? ledger.recordError(text)
    }

    /// Something succeeded: the next failure is news again.
    func succeeded() {
        lastReported = nil
    }

    /// Starts a new count for ``failedSinceClear``.
    func clear() {
        failedSinceClear = false
    }
}
