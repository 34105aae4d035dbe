import Foundation
import Ingest
import Ledger
import SafeTensors

/// One pass of the daemon's ingest: the run directory against the ledger (one snapshot
/// per pass). Each checkpoint folder the ledger does not know is read now — copied,
/// checked and recorded as ingested or rejected — or noted as incomplete; a folder seen
/// but gone before it was recorded is recorded as missed. Events are only hints: the
/// directory is always listed again, so a lost or repeated event cannot mislead it.
struct Reconciler {
    let directory: String
    let layout: any TrainerLayout
    let ingestor: CheckpointIngestor
    let ledger: Ledger
    let recorder: Recorder
    let reporter: FailureReporter

    /// What a pass did.
    struct Pass: Equatable {
        /// Rows were written (ingested, rejected or missed): the window may have changed.
        var changed = false
        /// Incomplete checkpoint folders and what they wait for.
        var waiting: [String: String] = [:]
        /// The directory could not be listed or the ledger not read.
        var failed = false
        /// Checkpoint folders with a file this user may not read, and which.
        var unreadable: [String: String] = [:]
    }

    /// Reconciles at `now`. `appeared` names checkpoint folders that events said were
    /// created, so that one deleted again before this pass is still accounted for.
    func pass(sightings: inout Sightings, appeared: Set<String> = [], now: Date) -> Pass {
        var result = Pass()
        let run: RunDirectory
        let snapshot: LedgerSnapshot
        do {
            run = try RunDirectory.scan(directory, layout: layout)
            snapshot = try ledger.snapshot()
            // A checkpoint deleted while listed is the trainer's rotation at work, not
            // something skipped: it was seen, so it is ingested already or missed below.
            recorder.recordSkipped(run.skipped.filter { $0.reason != RunDirectory.vanishedWhileListing })
        } catch {
            if error is LedgerError {
                reporter.report("cannot read the ledger", error)
            } else {
                reporter.problem(listing, error, selfDescribed: error is IngestError)
            }
            result.failed = true
            return result
        }
        reporter.resolve(listing)
        let current = snapshot.current
        let vanished = Set(run.skipped.filter { $0.reason == RunDirectory.vanishedWhileListing }.map(\.name))
        let skipped = Set(run.skipped.map(\.name)).subtracting(vanished)
        for name in appeared.union(vanished) where !skipped.contains(name) {
            if case .checkpoint(let step) = layout.classify(name, in: run.path), current[step].map({ $0.status == .missed }) ?? true {
                sightings.saw(path: "\(run.path)/\(name)", step: step, at: now)
            }
        }
        let reference = WindowReference(newest: snapshot.ingested.last, open: self.reference)
        for ref in run.checkpoints {
            let known = current[ref.step]
            if known == nil || known?.status == .missed { sightings.saw(path: ref.path, step: ref.step, at: now) }
            switch ingestor.ingest(ref, known: known, reference: { reference.adapter }, now: now) {
            case .waiting(let reason):
                result.waiting[ref.name] = reason
                sightings.note(ref.name, reason)
            case .unreadable(let reason):
                result.waiting[ref.name] = reason
                result.unreadable[ref.name] = reason
                sightings.note(ref.name, reason)
            case .vanished(let how):
                sightings.note(ref.name, how)
            case .unchanged, .disappearing:
                sightings.settle(ref.name)
            case .ingested(let row), .rejected(let row):
                sightings.settle(ref.name)
                result.changed = true
                if let ingested = recorder.record(row, known: known) { reference.ingested(ingested) }
            }
        }
        if result.unreadable.isEmpty {
            reporter.resolve(Self.unreadable)
        } else {
            reporter.problem(Self.unreadable, UnreadableCheckpoints(files: result.unreadable))
        }
        for missed in sightings.takeVanished(now: now, exists: Self.exists) {
            recorder.recordMissed(missed)
            result.changed = true
        }
        let present = Set(run.checkpoints.map(\.path))
        recorder.recordVanished(snapshot.checkpoints.filter {
            $0.vanishedAt == nil && !present.contains($0.sourcePath) && !FileManager.default.fileExists(atPath: $0.sourcePath)
        }, now: now)
        return result
    }

    /// What the problems this pass raises and resolves are called.
    private var listing: String { "cannot list \(directory)" }
    private static let unreadable = "cannot read checkpoints"

    /// Whether anything is at `path`, a dangling symbolic link included.
    private static func exists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }

    /// A checkpoint's retained adapter, which newer ones must match in tensors.
    private func reference(_ row: CheckpointRecord) -> CheckpointIngestor.Reference? {
        guard let retained = row.retainedPath,
              let file = try? SafeTensorsFile(path: "\(retained)/\(layout.adapterFile)") else { return nil }
        return CheckpointIngestor.Reference(name: row.sourcePath, step: row.step, file: file)
    }
}

/// The window's newest ingested adapter, which a new checkpoint's tensors must match:
/// opened only when a checkpoint is actually judged, not at every wake-up.
final class WindowReference {
    private var newest: CheckpointRecord?
    private var opened: CheckpointIngestor.Reference??
    private let open: (CheckpointRecord) -> CheckpointIngestor.Reference?

    init(newest: CheckpointRecord?, open: @escaping (CheckpointRecord) -> CheckpointIngestor.Reference?) {
        self.newest = newest
        self.open = open
    }

    var adapter: CheckpointIngestor.Reference? {
        if let opened { return opened }
        let adapter = newest.flatMap(open)
        opened = .some(adapter)
        return adapter
    }

    /// `row` was just ingested: it is the reference if it is the newest.
    func ingested(_ row: CheckpointRecord) {
        guard row.step >= (newest?.step ?? .min) else { return }
        newest = row
        opened = nil
    }
}

/// Checkpoint folders holding files this user may not read, each with which and why.
struct UnreadableCheckpoints: Error, CustomStringConvertible {
    var files: [String: String]
    var description: String { files.keys.sorted().map { "\($0): \(files[$0]!)" }.joined(separator: "; ") }
}
