import Foundation
import Ingest
import Ledger
import Logging
import Settings
import Weigh

/// Writes what the reconciler decided into the ledger, and says it once in the log:
/// ingested, rejected, missed, replaced, skipped.
final class Recorder {
    private let ledger: Ledger
    private let store: RetainedStore
    private let logger: Logger
    private let reporter: FailureReporter
    /// The metric the merge weighs by, named in the log (what status shows too); nil
    /// when the weighting reads steps only.
    private let metric: Metric?
    /// The skipped folders last recorded; nil until the first scan records them.
    private var skipped: [SkippedEntry]?
    private var logged: Set<String> = []
    /// Called with the step from which an earlier run's checkpoints were replaced.
    var onEarlierRunReplaced: (Int64) -> Void = { _ in }

    init(ledger: Ledger, store: RetainedStore, logger: Logger, reporter: FailureReporter, settings: MergeSettings) {
        self.ledger = ledger
        self.store = store
        self.logger = logger
        self.reporter = reporter
        metric = settings.weighedMetric
    }

    /// Records an ingested or rejected checkpoint; returns the row when it is newly ingested.
    func record(_ row: CheckpointRecord, known: CheckpointRecord?) -> CheckpointRecord? {
        let outcome: CheckpointOutcome
        do { outcome = try ledger.record(row) } catch {
            reporter.report("cannot record \(row.name)", error)
            return nil
        }
        switch outcome {
        case .unchanged:
            if let retained = row.retainedPath, retained != known?.retainedPath { store.remove(retained) }
            return nil
        case .replaced(let old, let new):
            if let retained = old.retainedPath { store.remove(retained) }
            logger.notice("\(new.name) was written again with other content (training resumed?); the earlier one is marked replaced")
            let abandoned = (try? ledger.supersede(after: new.step)) ?? []
            for row in abandoned { if let retained = row.retainedPath { store.remove(retained) } }
            onEarlierRunReplaced(new.step)
            if let first = abandoned.first, let last = abandoned.last {
                logger.notice("\(abandoned.count) checkpoints of the earlier run after step \(new.step) (\(first.name) … \(last.name)) are marked replaced: status, the losses and the metrics show only the new run")
            }
            return announce(new)
        case .recorded(let new):
            return announce(new)
        }
    }

    /// Records a checkpoint that was seen but deleted before it could be read.
    func recordMissed(_ row: CheckpointRecord) {
        do {
            guard case .recorded = try ledger.record(row) else { return }
            logger.warning("missed \(row.name): \(row.reason ?? "")")
        } catch {
            reporter.report("cannot record \(row.name)", error)
        }
    }

    /// Keeps the ledger's skipped folders in step with the run directory, writing
    /// only when they change, and logs each once.
    func recordSkipped(_ entries: [SkippedEntry]) {
        for entry in entries where logged.insert("skip:\(entry.name)").inserted {
            logger.warning("skipped \(entry.name): \(entry.reason)")
        }
        guard skipped != entries else { return }
        do {
            try ledger.setSkipped(entries.map { ($0.name, $0.reason) })
            skipped = entries
        } catch {
            reporter.report("cannot record skipped folders", error)
        }
    }

    /// Notes that the trainer deleted the folders of these rows (its rotation).
    func recordVanished(_ rows: [CheckpointRecord], now: Date) {
        for row in rows { try? ledger.markVanished(checkpointID: row.id!, at: now) }
    }

    private func announce(_ row: CheckpointRecord) -> CheckpointRecord? {
        if row.status == .rejected {
            logger.warning("rejected \(row.name): \(row.reason ?? "no reason")")
            return nil
        }
        logger.info("ingested \(row.name)\(Self.metricText(row, metric))")
        return row
    }

    /// ` (eval_loss 3.999042)`: the value the merge weighs this checkpoint by.
    static func metricText(_ row: CheckpointRecord, _ metric: Metric?) -> String {
        guard let metric else { return "" }
        let value: Double? = switch metric {
        case .trainLoss: row.trainLoss
        case .evalLoss: row.evalLoss
        }
        return " (\(metric.rawValue) \(value.map { String(format: "%.6f", $0) } ?? "not logged"))"
    }
}
