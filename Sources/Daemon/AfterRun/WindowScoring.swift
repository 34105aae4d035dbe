import Evaluate
import Foundation
import Ingest
import Ledger
import Logging
import Publish
import Settings

/// `mwad eval`: scores, after the run, the windows the live gate did not (saves came
/// faster than the evaluator, or evaluation was off). Each window's merge is re-made
/// from its members' retained copies and the settings recorded with it, checked
/// bit-equal (SHA-256) to what was published, and evaluated exactly as the daemon
/// evaluates: the merge, the newest checkpoint and each candidate, recorded in the
/// ledger; the best adapter is published when the window is the most recent one
/// evaluated. Windows are taken oldest first, so that `best_output` ends on the newest.
///
/// The caller holds the ledger's lock: the daemon, which writes the same rows and the
/// same `best_output`, is not running.
public struct WindowScoring {
    /// Which windows to consider.
    public enum Selection: Sendable, Equatable {
        /// Every window of the run.
        case all
        /// The newest N windows that have enough members to be evaluated.
        case last(Int)
    }

    /// What became of one window.
    public struct Window: Sendable, Equatable {
        public enum Outcome: Sendable, Equatable {
            /// Scored now: the merge's score and the line the daemon logs.
            case scored(Double, String)
            /// Scored before (by the live gate or an earlier `mwad eval`).
            case alreadyScored(Double?)
            /// Could not be scored, and why.
            case failed(String)
            /// Fewer members than `eval.min_members`: not a window to evaluate.
            case tooSmall
        }

        public var mergeID: Int64
        public var steps: [Int64]
        public var outcome: Outcome

        /// Whether the window has a score now.
        public var hasScore: Bool {
            switch outcome {
            case .scored: true
            case .alreadyScored(let value): value != nil
            case .failed, .tooSmall: false
            }
        }
    }

    let config: DaemonConfig
    let settings: EvalSettings
    let layout: any TrainerLayout
    let publication: any PublicationTarget
    let ledger: Ledger
    let logger: Logger

    public init(config: DaemonConfig, evaluation: EvalSettings, layout: any TrainerLayout, ledger: Ledger, logger: Logger) {
        self.config = config
        settings = evaluation
        self.layout = layout
        publication = config.makePublication(layout)
        self.ledger = ledger
        self.logger = logger
    }

    /// The run's windows in `selection`, oldest first, each scored where it had no
    /// score; `report` sees each as it is done.
    public func run(_ selection: Selection, report: (Window) -> Void = { _ in }) async throws -> [Window] {
        let snapshot = try ledger.snapshot()
        let rows = Dictionary(uniqueKeysWithValues: snapshot.checkpoints.map { ($0.id!, $0) })
        // An earlier run's windows (replaced in this directory) are not this run's.
        let windows = try ledger.mergeHistory().compactMap { merge, members -> (MergeRecord, [CheckpointRecord])? in
            let rows = members.compactMap { rows[$0.checkpointID] }
            guard rows.count == members.count, !rows.contains(where: { $0.status == .replaced }) else { return nil }
            return (merge, rows)
        }
        let eligible = windows.filter { $0.1.count >= settings.minMembers }
        let chosen: [(MergeRecord, [CheckpointRecord])] = switch selection {
        case .all: windows
        case .last(let count): Array(eligible.suffix(count))
        }
        let root = "\(config.stateDirectory)/eval"
        let worker = EvaluationWorker(settings: settings, ledger: ledger, logger: logger, scratch: root)
        var done: [Window] = []
        for (merge, members) in chosen {
            let id = merge.id!
            var window = Window(mergeID: id, steps: members.map(\.step), outcome: .tooSmall)
            if members.count >= settings.minMembers {
                let recorded = try ledger.snapshot().evaluations.filter { $0.mergeID == id }
                if !recorded.isEmpty {
                    window.outcome = .alreadyScored(recorded.first { $0.target == .merge }?.value)
                } else {
                    window.outcome = await score(merge, members: members, worker: worker, root: root)
                }
            }
            report(window)
            done.append(window)
        }
        await worker.stop()
        try? FileManager.default.removeItem(atPath: root)
        return done
    }

    private func score(_ merge: MergeRecord, members: [CheckpointRecord], worker: EvaluationWorker, root: String) async -> Window.Outcome {
        let id = merge.id!
        let scratch = "\(root)/remade-\(id)"
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        do {
            let output = try remake(merge, members: members, in: scratch)
            let job = try EvalJob.freeze(mergeID: id, settings: merge.settings, layout: layout, publication: publication, output: output,
                                         members: members.map { ($0.step, $0.retainedPath!, $0.sourcePath) }, root: root)
            await worker.enqueue(job)
            await worker.drain()
        } catch let error as Unscorable {
            return .failed(error.reason)
        } catch {
            return .failed("\(error)")
        }
        let recorded = (try? ledger.snapshot().evaluations.filter { $0.mergeID == id }) ?? []
        guard let scored = recorded.first(where: { $0.target == .merge }), let value = scored.value else {
            let why = recorded.first { $0.target == .merge }?.error ?? "no score recorded"
            return .failed("the evaluation of the merge failed: \(why)")
        }
        let scores = recorded.map { record in record.value.map { "\(record.label) \(String(format: "%.6g", $0))" } ?? "\(record.label) failed" }
        let best = recorded.first(where: \.best).map { "; best: \($0.label)" } ?? ""
        return .scored(value, scores.joined(separator: ", ") + best)
    }

    /// A window that cannot be scored, and why.
    struct Unscorable: Error {
        var reason: String
    }

    /// Re-makes `merge` from its members' retained copies in `folder`; returns what
    /// was published there (by the target's scratch form: the folder, or a file). Throws
    /// when a copy is gone or the result is not the merge that was published.
    func remake(_ merge: MergeRecord, members: [CheckpointRecord], in folder: String) throws -> String {
        for member in members where member.retainedPath.map(FileManager.default.fileExists(atPath:)) != true {
            throw Unscorable(reason: "\(member.name)'s retained copy is gone (mwad deletes a copy once no window holds it, "
                + "unless eval.retain is all, the default with an evaluator)")
        }
        let checkpoints = try members.map { member in
            try Checkpoint.load(CheckpointRef(step: member.step, path: member.retainedPath!, origin: member.sourcePath), layout: layout)
        }
        let plan = try MergePlan(checkpoints: checkpoints, settings: merge.settings)
        let scratch = publication.scratch
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        // At the recorded time: a single-file merge carries its manifest, creation time
        // included, in the file's own metadata.
        _ = try scratch.publish(plan, to: folder, now: merge.createdAt, digests: members.map { $0.adapterSHA256 ?? "" })
        let digest = try FileDigest.sha256(ofFile: scratch.adapterPath(at: folder))
        guard digest == merge.outputSHA256 else {
            throw Unscorable(reason: "re-made from the retained copies with the recorded settings, the merge is not the one published "
                + "(sha256 \(digest.prefix(12)), published \(merge.outputSHA256.prefix(12))): a member's copy changed")
        }
        return scratch.target(at: folder)
    }
}
