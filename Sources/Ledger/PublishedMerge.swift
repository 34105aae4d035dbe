import Foundation
import Ingest

extension CheckpointRecord {
    /// The row of a checkpoint read successfully.
    public init(ingested checkpoint: Checkpoint, sha256: String, retainedPath: String? = nil, smoothing: Int = 1, now: Date) {
        self.init(step: checkpoint.step, sourcePath: checkpoint.ref.source,
                  retainedPath: retainedPath ?? (checkpoint.ref.origin == nil ? nil : checkpoint.ref.path),
                  adapterSize: Int64(checkpoint.adapter.fileBytes.count), adapterSHA256: sha256,
                  trainLoss: checkpoint.value(of: .trainLoss, smoothing: smoothing),
                  evalLoss: checkpoint.value(of: .evalLoss, smoothing: smoothing),
                  status: .ingested, discoveredAt: now, ingestedAt: now)
    }
}
