import Foundation
import HostFileSystem
import Ingest
import Ledger
import Logging
import Merge
import Publish
import SafeTensors
import Settings
import Weigh

/// Keeps the published merge equal to the MWA of the newest `window` ingested
/// checkpoints: merges when the window, the settings (their fingerprint) or the output
/// changed, publishes atomically, records the merge, and evicts what fell out of the
/// window. A window short of checkpoints is refilled first from evicted ones whose
/// trainer folders still hold the same adapter (after a restart with a larger window).
struct RollingMerge {
    let config: DaemonConfig
    let layout: any TrainerLayout
    let publication: any PublicationTarget
    let ledger: Ledger
    let store: RetainedStore
    let logger: Logger
    /// What has been said once already.
    let notes = OnceNotes()
    /// The weighting of `config.merge`, built once for the daemon's life (nil: the
    /// settings do not make one, and each merge says why).
    let weighting: (any WeightingMethod)?

    init(config: DaemonConfig, layout: any TrainerLayout, publication: any PublicationTarget, ledger: Ledger, store: RetainedStore, logger: Logger) {
        (self.config, self.layout, self.publication, self.ledger, self.store, self.logger) = (config, layout, publication, ledger, store, logger)
        weighting = try? config.merge.weightingMethod()
    }

    /// A merge that was published.
    struct Published {
        var record: MergeRecord
        var newestStep: Int64
        /// The retained window (the members and what candidates take besides): step,
        /// retained copy, trainer folder, oldest first.
        var members: [(step: Int64, retained: String, source: String)]
        /// The merge's members and their weights, oldest first.
        var weights: [(name: String, step: Int64, weight: Double)]
    }

    /// Merges if needed; returns the new merge, if one was published. `now` (the
    /// daemon's clock) dates it; its duration is measured on the monotonic clock.
    func update(now: Date) throws -> Published? {
        let began = ContinuousClock.now
        var snapshot = try ledger.snapshot()
        if WindowRefill(layout: layout, ledger: ledger, store: store, logger: logger).refill(snapshot, window: DaemonWindow.wanted(config)) {
            snapshot = try ledger.snapshot()
        }
        let planned = DaemonWindow(snapshot: snapshot, config: config)
        var window = planned.members
        guard !window.isEmpty, Self.needsMerge(window: window, snapshot: snapshot, config: config, publication: publication) else {
            try evict(keeping: planned.retained)  // nothing to publish: what is outside is not needed
            return nil
        }
        if config.merge.window.count == nil { return try updateRunning(window, snapshot: snapshot, now: now, began: began) }
        let checkpoints = try loadRetained(&window)
        guard !checkpoints.isEmpty else { return nil }
        let plan = try MergePlan(checkpoints: checkpoints, settings: config.merge, weighting: weighting)
        if let earlier = plan.members.first(where: { $0.metricStep != nil }), notes.once("metric-step") {
            logger.notice("\(earlier.name) weighs by \(plan.metricName) logged at step \(earlier.metricStep!), the last one at or before its step (logged less often than saved); mwad status shows each member's metric with its step")
        }
        // Through the running sum when the method has one and it touches fewer bytes
        // than merging the window afresh (RunningSumPolicy); else a full merge.
        var sum = try Catalog.shared.method(config.merge.method).incremental.flatMap { incremental in
            try SumUpdate(config: config, incremental: incremental, weighting: weighting, layout: layout, window: window,
                          checkpoints: checkpoints, snapshot: snapshot)
        }
        if let update = sum, !update.pays(under: config.runningSum) {
            update.removeSaved()
            sum = nil
        }
        // A member whose copy was lost (and so rejected) is not handed to evaluation.
        let dropped = Set(planned.members.map(\.id)).subtracting(window.map(\.id))
        return try publish(plan, sum: sum, window: window, retained: planned.retained.filter { !dropped.contains($0.id) },
                           snapshot: snapshot, now: now, began: began)
    }

    /// Publishes `plan` (through `sum` where given), saves the sum, records the merge,
    /// and only then evicts what the window no longer needs: a merge that failed to
    /// publish still needs its window, and a running average's evicted members must be
    /// the recorded merge's.
    func publish(_ plan: MergePlan, sum: SumUpdate?, window: [CheckpointRecord], retained: [CheckpointRecord],
                 snapshot: LedgerSnapshot, now started: Date, began: ContinuousClock.Instant) throws -> Published {
        let digests = window.map { $0.adapterSHA256 ?? "" }
        let output = publication.target(at: config.output)
        let manifest: MergeManifest
        do {
            manifest = try publication.publish(plan, to: config.output, now: started, digests: digests, writeAdapter: sum?.write)
        } catch {
            sum?.discard()
            throw error
        }
        try sum?.commit()
        let duration = began.duration(to: .now).seconds
        let record = try ledger.recordPublished(plan, digests: digests, output: output,
                                                outputSHA256: manifest.outputSHA256 ?? "", created: started, duration: duration,
                                                report: manifest.report)
        try evict(keeping: retained)
        // `auto` falling back from delta: said once per reason, with the member and why.
        if let report = manifest.report, let reason = report.methodReason, notes.once("auto-\(reason)") {
            logger.notice("method auto merges with \(report.methodUsed ?? "linear"), not delta: \(report.methodDetail ?? reason); status shows \(report.methodText ?? "")")
        }
        let steps = window.map(\.step)
        let how = sum.map { $0.previous == nil ? "exact" : "incremental: +\($0.adding.count) −\($0.removing.count)" } ?? "full"
        logger.info("published merge #\(record.id!) of \(steps.count == 1 ? "1 checkpoint" : "\(steps.count) checkpoints") (steps \(steps.first!)–\(steps.last!), \(plan.settings.summary)\(manifest.report?.methodText.map { " (\($0))" } ?? ""), \(how)) to \(output) in \(String(format: "%.2f", duration)) s\(Self.shortness(window, snapshot: snapshot, of: config.merge.window.count))")
        return Published(record: record, newestStep: steps.last!, members: retained.map { ($0.step, $0.retainedPath ?? "", $0.sourcePath) },
                         weights: plan.members.map { ($0.name, $0.step, $0.weight) })
    }

    /// The window differs from the last merge's members, the merge was made with other
    /// settings (fingerprint) or to another output, or the output is gone.
    static func needsMerge(window: [CheckpointRecord], snapshot: LedgerSnapshot, config: DaemonConfig,
                           publication: any PublicationTarget) -> Bool {
        guard let last = snapshot.merge else { return true }
        return snapshot.memberIDs != window.map { $0.id! } || last.fingerprint != config.merge.effective.fingerprint
            || last.outputPath != publication.target(at: config.output) || !publication.isPublished(at: config.output)
    }

    /// `; window short: …` when fewer checkpoints than the window are merged although
    /// older ones were ingested (their folders were deleted before the window grew).
    static func shortness(_ window: [CheckpointRecord], snapshot: LedgerSnapshot, of size: Int?) -> String {
        guard let size else { return "" }
        let oldest = window.first?.step ?? .max
        let gone = snapshot.checkpoints.filter { $0.status == .evicted && $0.step < oldest }
        guard window.count < size, !gone.isEmpty else { return "" }
        return "; window short: \(window.count) of \(size), \(gone.count) older checkpoint(s) were evicted and their folders are gone"
    }

    /// Opens the retained copies; one that was lost (deleted behind the daemon's back)
    /// is copied again from the trainer's folder if that still holds the same adapter,
    /// otherwise the checkpoint is rejected and the window shrinks.
    func loadRetained(_ window: inout [CheckpointRecord]) throws -> [Checkpoint] {
        var checkpoints: [Checkpoint] = []
        var kept: [CheckpointRecord] = []
        let refill = WindowRefill(layout: layout, ledger: ledger, store: store, logger: logger)
        for var row in window {
            if let checkpoint = try? load(row) {
                checkpoints.append(checkpoint)
                kept.append(row)
            } else if let recopied = refill.recopy(row), let checkpoint = try? load(recopied) {
                try ledger.update(recopied)
                logger.notice("retained copy of \(row.name) was missing; copied it again from \(row.sourcePath)")
                checkpoints.append(checkpoint)
                kept.append(recopied)
            } else {
                row.status = .rejected
                row.reason = "its retained copy was lost and the trainer's folder no longer holds the same adapter"
                try ledger.update(row)
                logger.warning("rejected \(row.name): \(row.reason!)")
            }
        }
        window = kept
        return checkpoints
    }

    func load(_ row: CheckpointRecord) throws -> Checkpoint {
        guard let retained = row.retainedPath else { throw RetainError(path: row.sourcePath, reason: "no retained copy") }
        return try Checkpoint.load(CheckpointRef(step: row.step, path: retained, origin: row.sourcePath), layout: layout)
    }

    /// Ingested checkpoints older than the window are evicted: status `evicted`, copy
    /// deleted (kept under `eval.retain: all`). Only after the merge that no longer needs them was published.
    func evict(keeping window: [CheckpointRecord]) throws {
        guard let oldest = window.first?.step else { return }
        for var row in try ledger.checkpoints(status: .ingested) where row.step < oldest {
            // `eval.retain: all` keeps the copy for `mwad eval` and `mwad export`.
            if let retained = row.retainedPath, !config.retainsAll { store.remove(retained) }
            row.status = .evicted
            try ledger.update(row)
            logger.debug("evicted \(row.name) from the window")
        }
    }
}

/// Remembers which one-time notes were logged (the loop's task alone uses it).
final class OnceNotes: @unchecked Sendable {
    private var said: Set<String> = []

    /// True the first time `key` is asked for.
    func once(_ key: String) -> Bool { said.insert(key).inserted }
}
