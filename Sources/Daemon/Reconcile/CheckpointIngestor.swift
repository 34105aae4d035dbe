import Foundation
import HostFileSystem
import Ingest
import Ledger
import Merge
import SafeTensors
import Settings
import Weigh

/// Decides what one checkpoint folder is: still being written, already known, gone
/// before it could be read, usable (retained and recorded as ingested) or unusable
/// (recorded as rejected, with why).
struct CheckpointIngestor {
    let settings: MergeSettings
    let layout: any TrainerLayout
    let store: RetainedStore
    /// How long files must stay unchanged before a trainer that writes no
    /// `trainer_state.json` counts as done, or an unparsable one as broken.
    let settleTime: TimeInterval
    /// The time a copy finished (`ingested_at`); a pass's `now` is when it began.
    var clock: @Sendable () -> Date = { Date() }

    enum Outcome {
        /// Not complete yet; look again later (what is awaited).
        case waiting(String)
        /// Known and unchanged since it was recorded.
        case unchanged
        /// The folder was deleted before it could be copied (how far it got).
        case vanished(String)
        /// A file this user may not read: waited on, and shown as a problem (the reason).
        case unreadable(String)
        /// Usable: retained, to be recorded.
        case ingested(CheckpointRecord)
        /// Unusable, to be recorded with its reason.
        case rejected(CheckpointRecord)
        /// Recorded with its content before, and now incomplete: the trainer is deleting
        /// it (a recursive delete removes it file by file) or writing it anew. Nothing is
        /// recorded: a deletion ends as vanished, a rewrite is judged once it is complete.
        case disappearing(String)
    }

    /// The window's newest adapter, which a new checkpoint's tensors must match.
    struct Reference {
        var name: String
        var step: Int64
        var file: SafeTensorsFile
    }

    func ingest(_ ref: CheckpointRef, known: CheckpointRecord?, reference: () -> Reference?, now: Date) -> Outcome {
        let outcome = read(ref, known: known, reference: reference, now: now)
        // A checkpoint read before is only ever superseded by a complete one with other
        // content. A folder that lost files since (HF Trainer's rotation is
        // `shutil.rmtree`, file by file, in directory order) is no rewrite and no
        // rejection, whichever file went first.
        guard let known, known.adapterSHA256 != nil, known.status != .missed else { return outcome }
        switch outcome {
        case .waiting(let why), .vanished(let why):
            return .disappearing(why)
        case .rejected(let row) where row.adapterSHA256 == nil:
            return .disappearing(row.reason ?? "its files are going")
        default:
            return outcome
        }
    }

    private func read(_ ref: CheckpointRef, known: CheckpointRecord?, reference: () -> Reference?, now: Date) -> Outcome {
        let folder = ref.path
        let metricsFile: String?
        switch layout.completion(of: folder, now: now, settleTime: settleTime) {
        case .waiting(let reason): return .waiting(reason)
        case .complete(let file): metricsFile = file
        }
        // Where the folder holds no metrics file, the adapter stands for it (its time
        // and its settling).
        let metricsPath = layout.path(of: metricsFile ?? layout.adapterFile, in: folder)
        if let known, isUnchanged(known, ref: ref, metricsFile: metricsPath) {
            return .unchanged
        }
        for required in layout.requiredFiles where !exists(layout.path(of: required, in: folder)) {
            // A pickle where the adapter belongs is no write in progress: said at once.
            let pickle = IngestError.pickleHint(folder, required)
            return settled(metricsPath, now: now) || !pickle.isEmpty
                ? .rejected(rejection(ref, now: now, reason: "\(folder): \(required) is missing\(pickle)"))
                : .waiting("\(required) was not written yet")
        }
        let staged: RetainedStore.Staged
        do {
            // Metrics the run logs (not the folder) are kept with the copy as they are now.
            let logged = layout.loggedMetrics(of: folder, step: ref.step).map { [Checkpoint.logFile: $0.encoded()] } ?? [:]
            staged = try store.stage(from: folder, layout: layout, required: layout.retainedFiles(metricsFile: metricsFile), written: logged)
        } catch {
            // A file seen a moment ago and gone now: the folder is being deleted (a
            // recursive delete empties it before removing it). The next pass decides:
            // missed if the folder is gone, else judged on what is left.
            if !exists(folder) || (error as? RetainError)?.vanished == true {
                return .vanished("it was deleted while being copied (\(error))")
            }
            // Not the checkpoint's fault: a mode or owner to fix (or a trainer that writes
            // a private temporary file and renames it, as diffusers does). Tried again at
            // each pass; readable, it is ingested.
            if let retain = error as? RetainError, retain.unreadable {
                // Just written (a file created 0600 and then opened up, or renamed into
                // place): wait quietly; only a file that stays unreadable is a problem.
                let reason = "\((retain.path as NSString).lastPathComponent) is not readable by user \(Posix.userName) "
                    + "(\(retain.reason)); make the run readable to it (group or mode)"
                guard settled(retain.path, now: now) else { return .waiting(reason) }
                return .unreadable(reason)
            }
            // Written to while copied: the write's own event brings the next try.
            if let retain = error as? RetainError, retain.changing {
                return .waiting("\((retain.path as NSString).lastPathComponent) was still being written")
            }
            return .rejected(rejection(ref, now: now, reason: "cannot copy: \(error)"))
        }
        if let known, known.adapterSHA256 == staged.adapterSHA256, known.status != .rejected {
            store.discard(staged.folder)
            return .unchanged
        }
        return judge(ref, staged: staged, reference: reference(), metricsFile: metricsPath, now: now)
    }

    /// Reads the staged copy: metrics, format, metric value, tensors against the window.
    private func judge(_ ref: CheckpointRef, staged: RetainedStore.Staged, reference: Reference?, metricsFile: String,
                       now: Date) -> Outcome {
        // Never before the files' own times: a row dated before them would look changed
        // at every later pass and be copied again each time.
        let seen = max(now, staged.newestModification)
        var row = CheckpointRecord(step: ref.step, sourcePath: ref.path, adapterSize: staged.adapterSize,
                                   adapterSHA256: staged.adapterSHA256, status: .ingested, discoveredAt: seen, ingestedAt: seen)
        let checkpoint: Checkpoint
        do {
            checkpoint = try Checkpoint.load(CheckpointRef(step: ref.step, path: staged.folder, origin: ref.path), layout: layout)
        } catch {
            if case .invalidTrainerState = error, !settled(metricsFile, now: now) {
                store.discard(staged.folder)
                return .waiting("\((metricsFile as NSString).lastPathComponent) was not complete yet")
            }
            return reject(&row, staged, String(describing: error).replacingOccurrences(of: staged.folder, with: ref.path))
        }
        // The copy is not read back: its digest and the check of its values are of the
        // very bytes written (seen in the copy's buffer), and a read-back would come from
        // the page cache, not the disk, so it would catch nothing. A file rewritten or
        // replaced while it was copied is caught at the source (size, mtime, inode
        // unchanged); its header is validated on the copy (a map, no data read).
        row.trainLoss = checkpoint.value(of: .trainLoss, smoothing: settings.smoothing)
        row.evalLoss = checkpoint.value(of: .evalLoss, smoothing: settings.smoothing)
        // A sound adapter, whatever the merge settings: every value finite, the same
        // tensors, dtypes and shapes as the window's newest. Whether the method in use
        // can merge it (delta and DoRA), or the weighting weigh it (a loss not logged),
        // is the merge's matter: a settings change later merges the retained copy.
        do throws(MergeError) {
            try LinearMethod().checkMember(MergeInput(name: ref.path, file: checkpoint.adapter, weight: 0,
                                                      valuesKnownFinite: staged.adapterScan == .allFinite, format: checkpoint.format),
                                           reference: reference.map { MergeInput(name: $0.name, file: $0.file, weight: 0, format: checkpoint.format) })
        } catch {
            return reject(&row, staged, "\(error)")
        }
        do { row.retainedPath = try store.commit(staged, name: ref.name) } catch {
            return reject(&row, staged, "cannot retain a copy: \(error)")
        }
        // discovered_at dates what was read (the files' times count); ingested_at is
        // when the copy was retained, so that status tells how long ingest took.
        row.ingestedAt = max(seen, clock())
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
        CheckpointRecord(step: ref.step, sourcePath: ref.path, adapterSize: FileTimes.size(layout.path(of: layout.adapterFile, in: ref.path)),
                         status: .rejected, reason: reason, discoveredAt: now)
    }

    /// Recorded before, and neither the adapter nor the metrics changed since: no
    /// need to copy and hash it again. A file that could not be read (no digest) is
    /// tried again at every scan: permissions may have been fixed, or a file replaced
    /// while it was read may now be still, whatever its times say. Such tries fail at
    /// `open`, before anything is copied, or succeed.
    private func isUnchanged(_ known: CheckpointRecord, ref: CheckpointRef, metricsFile: String) -> Bool {
        let adapter = layout.path(of: layout.adapterFile, in: ref.path)
        guard known.adapterSHA256 != nil, known.sourcePath == ref.path, let size = FileTimes.size(adapter), size == known.adapterSize,
              let adapterTime = FileTimes.modified(adapter), let metricsTime = FileTimes.modified(metricsFile) else { return false }
        // The ledger keeps times to the millisecond; a file written in the same
        // millisecond as the daemon saw it must not count as changed afterwards (it
        // would be copied and hashed again at every scan).
        return max(adapterTime, metricsTime) <= known.discoveredAt.addingTimeInterval(0.001)
    }

    private func settled(_ path: String, now: Date) -> Bool {
        guard let time = FileTimes.modified(path) else { return false }
        return now.timeIntervalSince(time) >= settleTime
    }

    private func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }
}
