import Foundation

/// A layout whose checkpoints' metrics are in the run's log (TensorBoard event files,
/// torchtune's `DiskLogger`), not in the checkpoint: diffusers, torchtune, kohya and
/// ai-toolkit. It says which ``LoggedMetrics`` reads a checkpoint's log; reading the
/// metrics, keeping them with the retained copy and reporting log problems are shared.
public protocol LogReadingLayout: TrainerLayout {
    /// The reader of the log of the checkpoint named `name` (a folder or file name).
    func log(for name: String) -> LoggedMetrics
    /// Every reader the layout keeps, for their problems.
    var logs: [LoggedMetrics] { get }
}

extension LogReadingLayout {
    /// The first reader's folder: where `tensorboard.logdir: auto` writes.
    public var logFolder: String { logs[0].folder }

    public func metrics(in folder: String) throws(IngestError) -> TrainerState {
        try log(for: (folder as NSString).lastPathComponent).metrics(in: folder, step: step(ofFolder: folder))
    }

    public func loggedMetrics(of folder: String, step: Int64) -> TrainerState? {
        log(for: (folder as NSString).lastPathComponent).state(ofRun: (folder as NSString).deletingLastPathComponent, step: step)
    }

    public func takeLogProblems() -> [String] { logs.flatMap { $0.takeProblems() } }
}
