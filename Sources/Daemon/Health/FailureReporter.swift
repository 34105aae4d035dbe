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
    /// What failed since ``clear()`` and why, each once, in order: what `--once` names
    /// at its end.
    private(set) var failuresSinceClear: [String] = []
    private var failedWhats: Set<String> = []
    /// The failures that persist now, by what failed (see ``problem(_:_:)``).
    private var problems: [String: String] = [:]

    init(ledger: Ledger, logger: Logger) {
        self.ledger = ledger
        self.logger = logger
    }

    /// Reports that `what` failed with `error`.
    func report(_ what: String, _ error: any Error) {
        let text = "\(what): \(error)"
        if failedWhats.insert(what).inserted { failuresSinceClear.append(text) }
        // Keyed by what failed: the error's text may name a different temporary path each time.
        defer { lastReported = what }
        guard lastReported != what else {
            logger.debug("\(text)")
            return
        }
        logger.error("\(text)")
        try? ledger.recordError(text)
    }

    /// Reports a failure that lasts until ``resolve(_:)`` says it is gone (an unreadable
    /// run directory or checkpoint): `mwad status` and `STATUS=` show it meanwhile.
    /// `selfDescribed`: the error names its file and says what failed; shown alone.
    func problem(_ what: String, _ error: any Error, selfDescribed: Bool = false) {
        report(what, error)
        let text = selfDescribed ? "\(error)" : "\(what): \(error)"
        guard problems[what] != text else { return }
        problems[what] = text
        try? ledger.setProblem(problemText)
    }

    /// `what` works again: its problem, if any, is cleared (and its next failure is news).
    func resolve(_ what: String) {
        if lastReported == what { lastReported = nil }
        guard problems.removeValue(forKey: what) != nil else { return }
        try? ledger.setProblem(problemText)
    }

    /// The persisting failures, one line (nil when there are none).
    var problemText: String? {
        problems.isEmpty ? nil : problems.keys.sorted().map { problems[$0]! }.joined(separator: "; ")
    }

    /// Something succeeded: the next failure is news again.
    func succeeded() {
        lastReported = nil
    }

    /// Starts a new count for ``failuresSinceClear``.
    func clear() {
        failuresSinceClear = []
        failedWhats = []
    }
}
