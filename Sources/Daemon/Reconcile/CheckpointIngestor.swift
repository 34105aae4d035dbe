import Foundation
import Ingest
import Ledger
import Merge
import SafeTensors
import Weigh

/// Decides what one checkpoint folder is: still being written, already known, usable
/// (retained and recorded as ingested) or unusable (recorded as rejected, with why).
struct CheckpointIngestor {
    let settings: MergeSettings
    let method: any WeightingMethod
    let store: RetainedStore
    /// How long files must stay unchanged before a trainer that writes no
    /// `trainer_state.json` counts as done, or an unparsable one as broken.
    let settleTime: TimeInterval

    enum Outcome {
        /// Not complete yet; look again later.
        case waiting(String)
        /// Known and unchanged since it was recorded.
        case unchanged
        /// Usable: retained, to be recorded.
        case ingested(CheckpointRecord)
        /// Unusable, to be recorded with its reason.
        case rejected(CheckpointRecord)
    }

    /// The window's newest adapter, which a new checkpoint's tensors must match.
    struct Reference {
        var name: String
        var step: Int64
        var file: SafeTensorsFile
    }

    func ingest(_ ref: CheckpointRef, known: CheckpointRecord?, reference: Reference?, now: Date) -> Outcome {
        let folder = ref.path
        guard let metricsFile = metricsFile(in: folder, now: now) else {
            return .waiting(waitingReason(folder))
        }
        let adapter = "\(folder)/\(Checkpoint.adapterFile)"
        if let known, isUnchanged(known, ref: ref, adapter: adapter, metricsFile: "\(folder)/\(metricsFile)") {
            return .unchanged
        }
        for required in [Checkpoint.adapterFile, Checkpoint.configFile] where !exists("\(folder)/\(required)") {
            return settled("\(folder)/\(metricsFile)", now: now)
                ? .rejected(rejection(ref, now: now, reason: "\(folder): \(required) is missing"))
                : .waiting("\(required) not written yet")
        }
        let staged: RetainedStore.Staged
        do {
            staged = try store.stage(from: folder, adapter: Checkpoint.adapterFile, others: [Checkpoint.configFile, metricsFile])
        } catch {
            return .rejected(rejection(ref, now: now, reason: "cannot copy: \(error)"))
        }
        if let known, known.adapterSHA256 == staged.adapterSHA256, known.status != .rejected {
            store.discard(staged.folder)
            return .unchanged
        }
        return judge(ref, staged: staged, reference: reference, metricsFile: "\(folder)/\(metricsFile)", now: now)
    }

    /// Reads the staged copy: metrics, format, metric value, tensors against the window.
    private func judge(_ ref: CheckpointRef, staged: RetainedStore.Staged, reference: Reference?, metricsFile: String,
                       now: Date) -> Outcome {
        var row = CheckpointRecord(step: ref.step, sourcePath: ref.path, adapterSize: staged.adapterSize,
                                   adapterSHA256: staged.adapterSHA256, status: .ingested, discoveredAt: now, ingestedAt: now)
        let checkpoint: Checkpoint
        do {
            checkpoint = try Checkpoint.load(CheckpointRef(step: ref.step, path: staged.folder, origin: ref.path))
        } catch {
            if case .invalidTrainerState = error, !settled(metricsFile, now: now) {
                store.discard(staged.folder)
                return .waiting("\((metricsFile as NSString).lastPathComponent) not complete yet")
            }
            return reject(&row, staged, String(describing: error).replacingOccurrences(of: staged.folder, with: ref.path))
        }
        // Verify the copy: what is on disk now must be what was read from the trainer's
        // file (a file replaced or rewritten while being copied fails here).
        let copied = withExtendedLifetime(checkpoint.adapter) { FileDigest.sha256(checkpoint.adapter.fileBytes) }
        guard copied == staged.adapterSHA256 else {
            return reject(&row, staged, "the retained copy's SHA-256 \(copied.prefix(12)) differs from what was read (\(staged.adapterSHA256.prefix(12)))")
        }
        row.trainLoss = checkpoint.value(of: .trainLoss, smoothing: settings.smoothing)
        row.evalLoss = checkpoint.value(of: .evalLoss, smoothing: settings.smoothing)
        do {
            let metric = checkpoint.value(of: method.metric, smoothing: settings.smoothing)
            _ = try method.logScore(of: Candidate(name: checkpoint.name, step: checkpoint.step, metricValue: metric))
            if let tensor = LinearMerge.firstNonFiniteTensor(in: checkpoint.adapter) {
                throw MergeError.nonFinite(tensor: tensor, member: checkpoint.name)
            }
            if let reference {
                let mine = MergeInput(name: checkpoint.name, file: checkpoint.adapter, weight: 0)
                try LinearMerge.checkCompatible([mine], reference: MergeInput(name: reference.name, file: reference.file, weight: 0))
            }
        } catch {
            return reject(&row, staged, "\(error)")
        }
        do { row.retainedPath = try store.commit(staged, step: ref.step) } catch {
            return reject(&row, staged, "cannot retain a copy: \(error)")
        }
        return .ingested(row)
    }

    private func reject(_ row: inout CheckpointRecord, _ staged: RetainedStore.Staged, _ reason: String) -> Outcome {
        store.discard(staged.folder)
        row.status = .rejected
        row.reason = reason
        row.ingestedAt = nil
        return .rejected(row)
    }

    private func rejection(_ ref: CheckpointRef, now: Date, reason: String) -> CheckpointRecord {
        CheckpointRecord(step: ref.step, sourcePath: ref.path, adapterSize: size("\(ref.path)/\(Checkpoint.adapterFile)"),
                         status: .rejected, reason: reason, discoveredAt: now)
    }

    /// The file holding the checkpoint's metrics once it is complete: HF Trainer's
    /// `trainer_state.json` (written last), or `mwad_metrics.json` once nothing in the
    /// folder has changed for the settle time.
    private func metricsFile(in folder: String, now: Date) -> String? {
        if exists("\(folder)/\(Checkpoint.stateFile)") { return Checkpoint.stateFile }
        guard exists("\(folder)/\(Checkpoint.sidecarFile)") else { return nil }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        let newest = names.compactMap { modified("\(folder)/\($0)") }.max() ?? now
        return now.timeIntervalSince(newest) >= settleTime ? Checkpoint.sidecarFile : nil
    }

    private func waitingReason(_ folder: String) -> String {
        exists("\(folder)/\(Checkpoint.sidecarFile)")
            ? "waiting \(Int(settleTime)) s for writes to settle (mwad_metrics.json)"
            : "no trainer_state.json yet"
    }

    /// Recorded before, and neither the adapter nor the metrics changed since: no
    /// need to copy and hash it again. A file that could not be read (no digest) is
    /// tried again at every scan: permissions may have been fixed, or a file replaced
    /// while it was read may now be still, whatever its times say. Such tries fail at
    /// `open`, before anything is copied, or succeed.
    private func isUnchanged(_ known: CheckpointRecord, ref: CheckpointRef, adapter: String, metricsFile: String) -> Bool {
        guard known.adapterSHA256 != nil, known.sourcePath == ref.path, let size = size(adapter), size == known.adapterSize,
              let adapterTime = modified(adapter), let metricsTime = modified(metricsFile) else { return false }
        // The ledger keeps times to the millisecond; a file written in the same
        // millisecond as the daemon saw it must not count as changed afterwards (it
        // would be copied and hashed again at every scan).
        return max(adapterTime, metricsTime) <= known.discoveredAt.addingTimeInterval(0.001)
    }

    private func settled(_ path: String, now: Date) -> Bool {
        guard let time = modified(path) else { return false }
        return now.timeIntervalSince(time) >= settleTime
    }

    private func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }

    private func modified(_ path: String) -> Date? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return Date(timeIntervalSince1970: Double(info.st_mtim.tv_sec) + Double(info.st_mtim.tv_nsec) / 1e9)
    }

    private func size(_ path: String) -> Int64? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return Int64(info.st_size)
    }
}
