import Evaluate
import Foundation
import HostFileSystem
import Ingest
import Ledger
import Publish
import Logging
import Settings
import Weigh

/// The loop's side of the evaluation worker: freezes each published window (hard
/// links, in the loop, so nothing later can change it) and hands it over; at start,
/// queues the last merge if the ledger holds no evaluation of it yet.
final class EvaluationQueue {
    private let config: DaemonConfig
    private let ledger: Ledger
    private let logger: Logger
    private let worker: EvaluationWorker?
    private let root: String
    private let layout: any TrainerLayout
    private let publication: any PublicationTarget

    init(config: DaemonConfig, layout: any TrainerLayout, publication: any PublicationTarget, ledger: Ledger, logger: Logger,
         scoreBoard: ScoreBoard?, clock: DaemonClock) {
        self.config = config
        self.layout = layout
        self.publication = publication
        self.ledger = ledger
        self.logger = logger
        root = "\(config.stateDirectory)/eval"
        worker = config.evaluation.map { EvaluationWorker(settings: $0, ledger: ledger, logger: logger, scratch: "\(config.stateDirectory)/eval",
                                                                scoreBoard: scoreBoard, clock: clock) }
    }

    /// Removes windows a crash left frozen, and queues the last merge if it was never
    /// evaluated (a restart does not evaluate again what the ledger holds).
    func resume() async {
        guard worker != nil else { return }
        try? FileManager.default.removeItem(atPath: root)
        guard let snapshot = try? ledger.snapshot(), let merge = snapshot.merge, let id = merge.id,
              !snapshot.evaluations.contains(where: { $0.mergeID == id }) else { return }
        let members = snapshot.memberIDs.compactMap(snapshot.checkpoint(id:))
        guard members.count >= (config.evaluation?.minMembers ?? 1) else { return }
        guard members.allSatisfy({ $0.retainedPath != nil && $0.status == .ingested }) else { return }
        await freeze(id: id, settings: merge.settings, output: merge.outputPath, members: members.map { ($0.step, $0.retainedPath!, $0.sourcePath) })
    }

    func enqueue(_ published: RollingMerge.Published) async {
        if let minimum = config.evaluation?.minMembers, published.weights.count < minimum {
            logger.debug("merge #\(published.record.id!) not evaluated: \(published.weights.count) member(s), eval.min_members is \(minimum)")
            return
        }
        await freeze(id: published.record.id!, settings: published.record.settings, output: published.record.outputPath,
                     members: published.members)
    }

    func drain() async { await worker?.drain() }

    func stop() async { await worker?.stop() }

    private func freeze(id: Int64, settings: MergeSettings, output: String, members: [(step: Int64, retained: String, source: String)]) async {
        guard let worker else { return }
        do {
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
            let job = try EvalJob.freeze(mergeID: id, settings: settings, layout: layout, publication: publication, output: output, members: members, root: root)
            await worker.enqueue(job)
        } catch {
            logger.error("cannot set merge #\(id) aside for evaluation: \(error)")
        }
    }
}
