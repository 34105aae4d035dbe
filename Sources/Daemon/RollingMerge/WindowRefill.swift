import Foundation
import Ingest
import Ledger
import Logging

/// Brings evicted checkpoints back into a window that is short of them — after a
/// restart with a larger window, say — from the trainer's folders, when those still
/// hold the very adapter that was ingested (same SHA-256). Where they are gone, the
/// window stays short, and the merge's log line and `mwad status` say why.
struct WindowRefill {
    let layout: any TrainerLayout
    let ledger: Ledger
    let store: RetainedStore
    let logger: Logger

    /// Refills the window of `window` checkpoints; returns whether any row changed.
    func refill(_ snapshot: LedgerSnapshot, window: Int) -> Bool {
        let ingested = snapshot.ingested
        guard ingested.count < window else { return false }
        let oldest = ingested.first?.step ?? .max
        // Only folders not known to be gone; the newest first.
        let candidates = snapshot.checkpoints.filter { $0.status == .evicted && $0.step < oldest && $0.vanishedAt == nil }
            .sorted { $0.step > $1.step }
        var changed = false
        for var row in candidates.prefix(window - ingested.count) {
            guard let recopied = recopy(row) else { continue }
            row = recopied
            row.status = .ingested
            do {
                try ledger.update(row)
                changed = true
                logger.notice("\(row.name) is back in the window of \(window): its folder still holds the same adapter")
            } catch {
                store.remove(recopied.retainedPath!)
            }
        }
        return changed
    }

    /// A new retained copy of `row` from its trainer folder, if that holds the same adapter.
    func recopy(_ row: CheckpointRecord) -> CheckpointRecord? {
        guard FileManager.default.fileExists(atPath: row.sourcePath),
              let staged = try? store.stage(from: row.sourcePath, layout: layout, required: layout.requiredFiles, optional: layout.metricsFiles,
                                            written: layout.loggedMetrics(of: row.sourcePath, step: row.step).map { [Checkpoint.logFile: $0.encoded()] } ?? [:])
        else { return nil }
        guard staged.adapterSHA256 == row.adapterSHA256, let path = try? store.commit(staged, name: row.name) else {
            store.discard(staged.folder)
            return nil
        }
        var updated = row
        updated.retainedPath = path
        return updated
    }
}
