import Foundation
import Ingest
import Ledger
import Merge
import Publish
import SafeTensors
import Settings
import Weigh

/// `window: all`: the merge of every checkpoint of the run, kept as a running sum
/// (``WindowSum``) so that the disk stays flat — a checkpoint's retained copy is deleted
/// once it is folded into the saved sum (the newest, and what candidates take, stay).
/// Validation allows it only for a weighting whose weights each depend on one
/// checkpoint and a method with an incremental form (linear). The saved sum's reference is moved as scores grow
/// (an EMA's grow with the step), so nothing overflows and nothing gone is needed. A
/// sum that cannot be trusted (settings changed, torn by a power cut) is recomputed
/// from the copies still retained, and the log says how many older checkpoints that
/// drops; where every member's copy is still there, it is recomputed exactly every
/// `merge.recompute_every` updates, as a window's sum is.
extension RollingMerge {
    func updateRunning(_ window: [CheckpointRecord], snapshot: LedgerSnapshot, now: Date, began: ContinuousClock.Instant) throws -> Published? {
        guard let incremental = try Catalog.shared.method(config.merge.method).incremental else {
            throw PublishError.io(path: config.output, operation: "merging", reason: "window all needs a method with an incremental form (linear)")
        }
        guard let weighting = try (self.weighting ?? config.merge.weightingMethod()) as? any SeparableWeighting, weighting.isSeparable else {
            throw PublishError.io(path: config.output, operation: "merging", reason: "window all needs a weighting whose weights each depend on one checkpoint")
        }
        let fingerprint = config.merge.effective.fingerprint
        let saved = incremental.saved(at: SumUpdate.statePath(config.stateDirectory))
        let lastKeys = SumUpdate.lastMergeKeys(snapshot)
        let everyCopy = window.allSatisfy { $0.status == .ingested }
        let trusted = saved.flatMap { saved in
            saved.fingerprint == fingerprint && Set(saved.members.keys) == lastKeys
                && !(everyCopy && saved.updates >= config.recomputeEvery) ? saved : nil
        }
        // The members: what the saved sum holds and what is new; without a trusted sum,
        // what still has a copy.
        var members = trusted == nil ? window.filter { $0.status == .ingested } : window
        if trusted == nil, members.count < window.count {
            logger.warning("the running average is recomputed from the \(members.count) checkpoints still retained: \(window.count - members.count) older ones, whose copies were deleted once folded in, are no longer in it")
        }
        var adding = members.filter { trusted?.members[SumUpdate.key($0)] == nil }
        let loaded = try loadRetained(&adding)
        members = members.filter { row in trusted?.members[SumUpdate.key(row)] != nil || adding.contains { $0.id == row.id } }
        guard let newestRow = members.last else { return nil }
        // Its adapter_config.json goes with the merge: a lost copy is an error to report.
        let newest = try loaded.last { $0.step == newestRow.step } ?? load(newestRow)
        var scores: [String: Double] = trusted?.members ?? [:]
        var sumMembers: [WindowSum.Member] = []
        for (row, checkpoint) in zip(adding, loaded) {
            let metric = checkpoint.value(of: weighting.metric, smoothing: config.merge.smoothing)
            let score = try weighting.logScore(of: Candidate(name: checkpoint.name, step: checkpoint.step, metricValue: metric))
            scores[SumUpdate.key(row)] = score
            sumMembers.append(WindowSum.Member(key: SumUpdate.key(row), file: checkpoint.adapter, score: score))
        }
        let top = scores.values.max() ?? 0
        let rebase = trusted.flatMap { abs(top - $0.reference) > 50 ? top : nil }
        let sum = SumUpdate(stateDirectory: config.stateDirectory, incremental: incremental, previous: trusted, adding: sumMembers, dtypes: newest.adapter,
                            fingerprint: fingerprint, size: members.count, rebase: rebase)
        // Weights as the sum has them: exp(score − top) normalised.
        let g = members.map { exp(scores[SumUpdate.key($0)]! - top) }
        let total = g.reduce(0, +)
        let plan = MergePlan(settings: config.merge, weighting: weighting.name, metric: weighting.metric, members: zip(members, g).map { row, g in
            let checkpoint = row.id == newestRow.id ? newest : zip(adding, loaded).first { $0.0.id == row.id }?.1
            return PlannedMember(checkpoint: checkpoint, name: row.name, step: row.step, source: row.sourcePath, recordID: row.id,
                                 metricValue: Self.value(row, weighting.metric),
                                 weight: g / total)
        })
        return try publish(plan, sum: sum, window: members, retained: DaemonWindow(snapshot: snapshot, config: config).retained,
                           snapshot: snapshot, now: now, began: began)
    }

    /// A member's value of `metric` as the ledger recorded it; its step where the
    /// weighting reads steps only.
    static func value(_ row: CheckpointRecord, _ metric: Metric?) -> Double? {
        switch metric {
        case nil: Double(row.step)
        case .trainLoss: row.trainLoss
        case .evalLoss: row.evalLoss
        }
    }
}
