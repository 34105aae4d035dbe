import Foundation
import HostFileSystem
import Ingest
import Ledger
import Merge
import Logging
import Publish
import SafeTensors
import Settings
import TensorBoard
import Weigh

/// Evaluates published windows in the background, one evaluation at a time: the merge,
/// the window's newest checkpoint and each candidate, then publishes the best to
/// `eval.best_output` and records everything in the ledger. Ingest and merging never
/// wait for it. A window that arrives while one is evaluated waits; a newer one
/// replaces it, so stale windows are skipped, never queued up.
public actor EvaluationWorker {
    private let settings: EvalSettings
    private let ledger: Ledger
    private let logger: Logger
    private let evaluator: any AdapterEvaluator
    private var pending: EvalJob?
    private var running: Task<Void, Never>?
    /// Windows skipped for a newer one since the last evaluation began.
    private var skipped = 0
    private var lastFailure: String?

    private let scoreBoard: ScoreBoard?

    public init(settings: EvalSettings, ledger: Ledger, logger: Logger, scratch: String, scoreBoard: ScoreBoard? = nil,
                clock: DaemonClock = .system) {
        self.settings = settings
        self.scoreBoard = scoreBoard
        self.ledger = ledger
        self.logger = logger
        evaluator = settings.makeEvaluator(scratch: scratch, logger: logger, clock: clock)
    }

    /// Queues `job`; a job still waiting is skipped in its favour.
    public func enqueue(_ job: EvalJob) {
        if let stale = pending {
            // Per window at debug: saves outpacing the evaluator would flood the log;
            // the count is said at info when an evaluation runs.
            logger.debug("evaluation of merge #\(stale.mergeID) skipped: merge #\(job.mergeID) is newer")
            skipped += 1
            stale.discard()
        }
        pending = job
        if running == nil { running = Task { await work() } }
    }

    /// Waits until every queued window is evaluated (`mwad run --once`, shutdown).
    public func drain() async {
        while let task = running { await task.value }
    }

    /// At shutdown: drops the window waiting and stops the running evaluation (its
    /// window is not recorded, and is evaluated again after a restart), then the
    /// persistent evaluator.
    public func stop() async {
        pending?.discard()
        pending = nil
        running?.cancel()
        // The persistent evaluator's request ends when its process does.
        await evaluator.stop()
        await drain()
    }

    private func work() async {
        while let job = pending {
            pending = nil
            if skipped > 0 {
                logger.info("evaluating merge #\(job.mergeID); \(skipped == 1 ? "1 older window was" : "\(skipped) older windows were") skipped since the last evaluation (saves came faster than the evaluator)")
                skipped = 0
            }
            await evaluate(job)
            job.discard()
        }
        running = nil
    }

    private func evaluate(_ job: EvalJob) async {
        // A merge of the newest checkpoint alone is that checkpoint, whatever its method.
        let steps = job.members.map(\.step)
        // (A running average, `window: all`, holds more than the frozen copies show.)
        let single = { (settings: MergeSettings) in
            settings.window.count != nil && settings.window.select(steps).count == 1 ? job.newest.folder : nil
        }
        var targets: [(record: EvaluationRecord, folder: String, same: String?)] = [
            (record(job, .merge, step: job.newest.step), job.merge, single(job.settings)),
            (record(job, .checkpoint, step: job.newest.step, name: (job.newest.source as NSString).lastPathComponent), job.newest.folder, nil),
        ]
        for (index, candidate) in settings.candidates.enumerated() {
            let folder = "\(job.folder)/candidate-\(index + 1)"
            do {
                let resolved = try CandidateMerge.make(candidate, from: job, to: folder)
                targets.append((record(job, .candidate, step: job.newest.step, settings: resolved), folder, single(candidate)))
            } catch {
                logger.warning("candidate \(candidate.summary) for merge #\(job.mergeID) could not be merged: \(error)")
            }
        }
        var results: [EvaluationRecord] = []
        // Each distinct adapter is scored once: a one-member window's merge is its
        // checkpoint, and a candidate may equal the merge.
        var scored: [String: Int] = [:]
        for (record, folder, same) in targets {
            let digest = Self.identity(same ?? folder, job: job)
            if let digest, let earlier = scored[digest] {
                var same = results[earlier]
                (same.target, same.settings, same.durationSeconds, same.startedAt) = (record.target, record.settings, 0, Date())
                logger.info("\(record.label) of merge #\(job.mergeID) is the same adapter as \(results[earlier].label) (sha256 \(digest.prefix(12))): scored once")
                results.append(same)
                continue
            }
            // The same model is scored in one form: the checkpoint's own, where it is one.
            results.append(await run(record, folder: same ?? folder, job: job))
            if let digest { scored[digest] = results.count - 1 }
            if Task.isCancelled { return }
        }
        let best = bestIndex(results)
        let published = best.flatMap { publishBest(results, best: $0, folder: targets[$0].folder, job: job) }
        do { try ledger.record(evaluations: results, best: best, bestOutput: published) } catch {
            logger.error("cannot record the evaluations of merge #\(job.mergeID): \(error)")
        }
        do throws(TensorBoardError) { try scoreBoard?.evaluated(results, best: best) } catch {
            logger.warning("cannot log the scores of merge #\(job.mergeID) to TensorBoard: \(error)")
        }
        logger.info("\(EvaluationSummary.line(results, best: best, bestPath: published, settings: settings, job: job))")
    }

    private func run(_ planned: EvaluationRecord, folder: String, job: EvalJob) async -> EvaluationRecord {
        // The target says what its users load (a single file's, the file); the adapter
        // file is named for every target.
        let adapter = job.adapter(in: folder)
        let outcome = await evaluator.evaluate(EvalRequest(adapter: job.publication.evaluatorPath(folder: folder, adapter: adapter), adapterFile: adapter,
                                                           target: planned.target.rawValue, step: planned.step, mergeID: job.mergeID))
        var result = planned
        result.value = outcome.value
        result.status = outcome.value == nil ? .failed : .ok
        result.error = outcome.error
        result.exitStatus = outcome.exitStatus
        result.startedAt = outcome.started
        result.durationSeconds = outcome.duration
        if let error = outcome.error, !Task.isCancelled {
            reportFailure("evaluation of \(planned.label) (window of merge #\(job.mergeID)) failed: \(error)", key: error)
        }
        return result
    }

    /// Logs a failure once, until something else happens (an evaluator that fails the
    /// same way at every window is one warning, not one per window).
    private func reportFailure(_ text: String, key: String) {
        let kind = String(key.prefix { $0 != ";" }).filter { !$0.isNumber }
        guard kind != lastFailure else {
            logger.debug("\(text)")
            return
        }
        lastFailure = kind
        logger.warning("\(text)")
        try? ledger.recordError(text)
    }

    private func record(_ job: EvalJob, _ target: EvaluationRecord.Target, step: Int64, settings: MergeSettings? = nil,
                        name: String? = nil) -> EvaluationRecord {
        var record = EvaluationRecord(mergeID: job.mergeID, target: target, step: step, settings: settings, metric: self.settings.metric,
                                      goal: self.settings.goal.rawValue, value: nil, status: .failed, startedAt: Date(), durationSeconds: 0)
        record.name = name
        return record
    }

    /// What makes two adapter folders the same model: SHA-256 of the tensors (names,
    /// dtypes, shapes, bytes) and of `adapter_config.json`, not of the header's
    /// metadata (a candidate whose settings differ only in words, an automatic EMA
    /// half-life equal to the one given, has other provenance but the same tensors).
    /// Nil where the adapter cannot be read: then it is evaluated, and the evaluator
    /// says what is wrong.
    static func identity(_ folder: String, job: EvalJob) -> String? {
        guard let file = try? SafeTensorsFile(path: job.adapter(in: folder)) else { return nil }
        var text = file.tensors.sorted { $0.name < $1.name }.map { "\($0.name):\($0.dtype.rawValue):\($0.shape)" }.joined(separator: ";")
        // The config by what it means for the tensors (their scaling), not its bytes.
        if let configFile = job.layout.output.configFile, case let configPath = "\(folder)/\(configFile)", let data = FileManager.default.contents(atPath: configPath), let config = try? AdapterConfig(data: data, source: configPath) {
            text += "|r=\(config.r);alpha=\(config.loraAlpha);rslora=\(config.useRslora);dora=\(config.useDora);bias=\(config.loraBias)"
            text += ";ranks=\(config.rankPattern.sorted { $0.key < $1.key });alphas=\(config.alphaPattern.sorted { $0.key < $1.key })"
        }
        let data = withExtendedLifetime(file) { () -> String in
            let first = file.tensors.map(\.dataOffsets.lowerBound).min() ?? 0
            let start = file.fileBytes.count - (file.tensors.map(\.dataOffsets.upperBound).max() ?? 0) + first
            return FileDigest.sha256(UnsafeRawBufferPointer(rebasing: file.fileBytes[start...]))
        }
        // Hashed inside the closure: the buffer lives only as long as it runs.
        return Array((text + data).utf8).withUnsafeBytes { FileDigest.sha256($0) }
    }

    /// The index of the best score; on a tie the merge, then the checkpoint, win (the
    /// summary counts the window as a tie).
    private func bestIndex(_ results: [EvaluationRecord]) -> Int? {
        var best: Int?
        for (index, result) in results.enumerated() {
            guard let value = result.value else { continue }
            if let current = best, !settings.isBetter(value, than: results[current].value!) { continue }
            best = index
        }
        return best
    }

    private func publishBest(_ results: [EvaluationRecord], best: Int, folder: String, job: EvalJob) -> String? {
        guard let output = settings.bestOutput else { return nil }
        let snapshot = try? ledger.snapshot()
        // The best adapter is the most recent evaluated window's: an older window scored
        // afterwards (`mwad eval`) records its scores but does not replace it.
        if let newer = snapshot?.evaluations.map(\.mergeID).filter({ $0 > job.mergeID }).max() {
            logger.info("\(results[best].label) is merge #\(job.mergeID)'s best; \(output) keeps the best of merge #\(newer), a newer window")
            return nil
        }
        var manifest = BestManifest(job: job, results: results, best: best, settings: settings)
        manifest.runNewestStep = snapshot?.checkpoints.filter { $0.status == .ingested || $0.status == .evicted }.map(\.step).max()
        var target = output
        do {
            let note = try manifest.note(layout: job.layout)
            target = job.publication.handOverPath(at: output, note: note)
            _ = try job.publication.handOver(folder, to: output, note: note)
            if lastFailure?.hasPrefix("publishing") == true { lastFailure = nil }
            return target
        } catch {
            reportFailure("publishing the best adapter to \(target) failed: \(error)", key: "publishing")
            return nil
        }
    }
}
