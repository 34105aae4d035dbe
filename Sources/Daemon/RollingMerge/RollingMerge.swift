import Foundation
import Ingest
import Ledger
import Logging
import Merge
import Publish
import SafeTensors
import Weigh

/// Keeps the published merge equal to the MWA of the newest `window` ingested
/// checkpoints: merges when the window (or the settings) changed, publishes
/// atomically, records the merge, and evicts what fell out of the window.
struct RollingMerge {
    let config: DaemonConfig
    let ledger: Ledger
    let store: RetainedStore
    let logger: Logger

    /// A merge that was published.
    struct Published {
        var record: MergeRecord
        var newestStep: Int64
    }

    /// Merges if needed; returns the new merge, if one was published.
    func update(now: Date = Date()) throws -> Published? {
        var window = Array(try ledger.checkpoints(status: .ingested).suffix(config.merge.window))
        defer { try? evict(keeping: window) }
        guard !window.isEmpty, try needsMerge(window) else { return nil }
        let checkpoints = try loadRetained(&window, now: now)
        guard !checkpoints.isEmpty else { return nil }
        let started = Date()
        let plan = try MergePlan(checkpoints: checkpoints, settings: config.merge)
        let digests = window.map { $0.adapterSHA256 ?? "" }
        let sum = try SumUpdate(config: config, window: window, checkpoints: checkpoints, ledger: ledger)
        let manifest: MergeManifest
        do {
            manifest = try MergePublisher.publish(plan, to: config.output, now: started, digests: digests, writeAdapter: sum.write)
        } catch {
            sum.discard()
            throw error
        }
        try sum.commit()
        let duration = Date().timeIntervalSince(started)
        let record = try ledger.recordPublished(plan, digests: digests, output: config.output,
                                                outputSHA256: manifest.outputSHA256 ?? "", created: started, duration: duration)
        let steps = window.map(\.step)
        let how = sum.previous == nil ? "exact" : "incremental: +\(sum.adding.count) −\(sum.removing.count)"
        logger.info("published merge #\(record.id!) of \(steps.count) checkpoints (steps \(steps.first!)–\(steps.last!), \(plan.weighting) weighting, \(how)) to \(config.output) in \(String(format: "%.2f", duration)) s")
        return Published(record: record, newestStep: steps.last!)
    }

    /// The window differs from the last merge's members, the settings changed, or the
    /// output is gone.
    private func needsMerge(_ window: [CheckpointRecord]) throws -> Bool {
        guard let last = try ledger.lastMerge() else { return true }
        let members = try ledger.members(ofMerge: last.id!).map(\.checkpointID)
        let method = try config.merge.method()
        let sameSettings = last.weighting == method.name && last.penalty == config.merge.penalty
            && last.metric == method.metric.rawValue && last.window == config.merge.window && last.outputPath == config.output
        let published = FileManager.default.fileExists(atPath: "\(config.output)/\(AtomicDirectory.marker)")
        return members != window.map { $0.id! } || !sameSettings || !published
    }

    /// Opens the retained copies; one that was lost (deleted behind the daemon's back)
    /// is copied again from the trainer's folder if that still holds the same adapter,
    /// otherwise the checkpoint is rejected and the window shrinks.
    private func loadRetained(_ window: inout [CheckpointRecord], now: Date) throws -> [Checkpoint] {
        var checkpoints: [Checkpoint] = []
        var kept: [CheckpointRecord] = []
        for var row in window {
            if let checkpoint = try? load(row) {
                checkpoints.append(checkpoint)
                kept.append(row)
            } else if let recopied = recopy(row), let checkpoint = try? load(recopied) {
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

    private func load(_ row: CheckpointRecord) throws -> Checkpoint {
        guard let retained = row.retainedPath else { throw CopyError(path: row.sourcePath, reason: "no retained copy") }
        return try Checkpoint.load(CheckpointRef(step: row.step, path: retained, origin: row.sourcePath))
    }

    private func recopy(_ row: CheckpointRecord) -> CheckpointRecord? {
        guard let staged = try? store.stage(from: row.sourcePath, adapter: Checkpoint.adapterFile,
                                            others: [Checkpoint.configFile, Checkpoint.stateFile, Checkpoint.sidecarFile]) else { return nil }
        guard staged.adapterSHA256 == row.adapterSHA256, let path = try? store.commit(staged, step: row.step) else {
            store.discard(staged.folder)
            return nil
        }
        var updated = row
        updated.retainedPath = path
        return updated
    }

    /// Ingested checkpoints older than the window are evicted: status `evicted`, copy
    /// deleted. Only after the merge that no longer needs them was published.
    private func evict(keeping window: [CheckpointRecord]) throws {
        guard let oldest = window.first?.step else { return }
        for var row in try ledger.checkpoints(status: .ingested) where row.step < oldest {
            if let retained = row.retainedPath { store.remove(retained) }
            row.status = .evicted
            try ledger.update(row)
            logger.debug("evicted \(row.name) from the window")
        }
    }
}
