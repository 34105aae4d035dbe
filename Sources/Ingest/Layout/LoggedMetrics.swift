import Foundation
import Synchronization
import TensorBoard

/// Metrics a run logs outside its checkpoints, read as the log grows: TensorBoard
/// event files under its log folder, or torchtune's `DiskLogger` text files there when
/// it has them. One reader per run is kept across checkpoints, so that each file is
/// read once, from where the last read stopped.
public final class LoggedMetrics: Sendable {
    /// The summary tag (or `DiskLogger` key) read as the training loss.
    public let tag: String
    /// The run's log folder, relative to the run directory, or absolute.
    public let folder: String
    /// Whether `DiskLogger` files are read first (torchtune).
    public let readsDiskLogger: Bool
    private let logs = Mutex<[String: (events: ScalarLog, text: DiskLog)]>([:])
    private let problems = Mutex<[String]>([])

    public init(tag: String, folder: String = "logs", readsDiskLogger: Bool = false) {
        self.tag = tag
        self.folder = folder
        self.readsDiskLogger = readsDiskLogger
    }

    /// The values logged by the run at `run`, brought up to date, by step.
    public func points(ofRun run: String) -> [ScalarLog.Point] {
        let directory = RunDirectory.folder(folder, in: run)
        let log = logs.withLock { logs in
            if let log = logs[directory] { return log }
            let made = (ScalarLog(directory: directory, tag: tag), DiskLog(directory: directory, key: tag))
            logs[directory] = made
            return made
        }
        if readsDiskLogger, !DiskLog.files(in: directory).isEmpty {
            record(log.text.refresh())
            return log.text.points
        }
        record(log.events.refresh())
        return log.events.points
    }

    private func record(_ found: [String]) {
        if !found.isEmpty { problems.withLock { $0 += found } }
    }

    /// The loss of the checkpoint at `step` of the run at `run`: every value logged at
    /// or before it, as a trainer state.
    public func state(ofRun run: String, step: Int64) -> TrainerState {
        let points = points(ofRun: run).filter { $0.step <= step }
        return TrainerState(globalStep: step, logHistory: points.map { TrainerState.LogEntry(step: $0.step, loss: $0.value) })
    }

    /// The metrics of the checkpoint in `folder` at `step`: a retained copy's kept log
    /// (``Checkpoint/logFile``), else the run's log (the folder's parent) up to `step`.
    public func metrics(in folder: String, step: Int64?) throws(IngestError) -> TrainerState {
        let kept = "\(folder)/\(Checkpoint.logFile)"
        if FileManager.default.fileExists(atPath: kept) { return try TrainerState.load(kept) }
        guard let step else { throw .unknownStep(path: folder) }
        return state(ofRun: (folder as NSString).deletingLastPathComponent, step: step)
    }

    /// Whether the run has logged a value at `step` or later (so the one for `step` is in).
    public func hasReached(_ step: Int64, run: String) -> Bool {
        (points(ofRun: run).last?.step ?? Int64.min) >= step
    }

    /// Whether a checkpoint of `step` whose adapter was written at `written` is
    /// complete as far as the log goes. Trainers log a step's loss before saving it;
    /// a log that lags (or a run with no log) is waited for the settle time, then the
    /// checkpoint is judged as it is.
    public func completion(step: Int64, run: String, written: Date, now: Date, settleTime: TimeInterval) -> Completion {
        if hasReached(step, run: run) || now.timeIntervalSince(written) >= settleTime { return .complete(metricsFile: nil) }
        return .waiting("the \(tag) of step \(step) was not in \(folder)/ yet")
    }

    /// The problems met since the last call.
    public func takeProblems() -> [String] {
        problems.withLock { found in
            defer { found = [] }
            return found
        }
    }
}
