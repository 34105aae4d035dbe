import Foundation

/// How a trainer lays out its output directory: which folders are checkpoints and
/// their steps, when one is complete, which of its files mwad keeps, what adapter
/// format they hold, where its metrics come from, and how a merge of them is published.
///
/// Everything along the pipeline reads checkpoints through a layout; supporting
/// another trainer is another conforming type (its own file), a line in
/// ``LayoutCatalog``, and its tests.
public protocol TrainerLayout: Sendable {
    /// The layout's name in `watch.layout`, logs and status.
    var name: String { get }

    /// What a folder's name says: a checkpoint and its step, a malformed name, or
    /// something else (including a trainer's staging folders).
    func classify(_ name: String, in run: String) -> CheckpointName

    /// Files every complete checkpoint has; the first is the adapter.
    var requiredFiles: [String] { get }

    /// Whether a checkpoint is one file (its adapter) rather than a folder; its
    /// retained copy is still a folder, holding the adapter as `requiredFiles[0]`.
    var checkpointsAreFiles: Bool { get }

    /// The path of `file` (one of `requiredFiles` or `metricsFiles`) of the checkpoint
    /// at `checkpoint`: inside the folder, or the checkpoint itself where it is a file.
    func path(of file: String, in checkpoint: String) -> String

    /// The checkpoints' PEFT `adapter_config.json`, nil where the format has none.
    var configFile: String? { get }

    /// The format of the adapter file: its tensor names and where its scaling is.
    var adapterFormat: AdapterFormat { get }

    /// The files a checkpoint's metrics may come from, in order of preference (none
    /// where they come from the run's logs).
    var metricsFiles: [String] { get }

    /// What a merge consists of, and how the layout's users want it published.
    var output: OutputProposal { get }

    /// The run's TensorBoard folder, relative to the run directory (or absolute, from
    /// `metrics.logdir`), where `tensorboard.logdir: auto` puts mwad's own event file.
    var logFolder: String { get }

    /// Whether the checkpoint in `folder` is complete: the file holding its metrics,
    /// or what is still missing.
    func completion(of folder: String, now: Date, settleTime: TimeInterval) -> Completion

    /// The metrics of the checkpoint in `folder` (the trainer's or a retained copy).
    func metrics(in folder: String) throws(IngestError) -> TrainerState

    /// The metrics of the trainer's checkpoint in `folder` at `step` where the run's
    /// logs hold them rather than the folder: kept with its retained copy (as
    /// ``Checkpoint/logFile``), since the log goes on and the copy must not depend on it.
    func loggedMetrics(of folder: String, step: Int64) -> TrainerState?

    /// Problems met in the run's logs since the last call (a bad record), each once.
    func takeLogProblems() -> [String]
}

/// Whether a checkpoint folder is ready to be read.
public enum Completion: Sendable, Equatable {
    /// Complete; `metricsFile` names the file its metrics come from (nil: the run's log).
    case complete(metricsFile: String?)
    /// Not yet; the text says what mwad waits for (for logs and `missed` reasons).
    case waiting(String)
}

/// What a layout proposes for its merges: the files one consists of (the adapter under
/// the layout's own name, the PEFT config beside it where the format has one), and the
/// publication target that suits its users by default, by name in Publish's
/// `PublicationCatalog` (`folder`, or `file` for trainers that save one file per
/// checkpoint). Where and how a merge is published is Publish's; `publish` overrides it.
public struct OutputProposal: Sendable, Equatable {
    public var adapterFile: String
    public var configFile: String?
    /// The default publication target's name.
    public var publication: String

    public init(adapterFile: String, configFile: String?, publication: String = "folder") {
        self.adapterFile = adapterFile
        self.configFile = configFile
        self.publication = publication
    }

    /// The files of a merge, the manifest not included.
    public var files: [String] { [adapterFile] + (configFile.map { [$0] } ?? []) }
}

extension TrainerLayout {
    /// The adapter file's name.
    public var adapterFile: String { requiredFiles[0] }

    public var configFile: String? { nil }

    public var checkpointsAreFiles: Bool { false }

    public func path(of file: String, in checkpoint: String) -> String { "\(checkpoint)/\(file)" }

    public var output: OutputProposal { OutputProposal(adapterFile: adapterFile, configFile: configFile) }

    public func loggedMetrics(of folder: String, step: Int64) -> TrainerState? { nil }

    public func takeLogProblems() -> [String] { [] }

    public var logFolder: String { "logs" }

    /// Every file retained for a checkpoint whose metrics are in `metricsFile`.
    public func retainedFiles(metricsFile: String?) -> [String] {
        requiredFiles + (metricsFile.map { [$0] } ?? [])
    }

    /// The step of the trainer's checkpoint folder at `folder`, by its name.
    public func step(ofFolder folder: String) -> Int64? {
        guard case .checkpoint(let step) = classify((folder as NSString).lastPathComponent, in: (folder as NSString).deletingLastPathComponent)
        else { return nil }
        return step
    }

    /// The path of the config file in `folder`, nil where the layout has none.
    public func configPath(in folder: String) -> String? {
        configFile.map { (folder as NSString).appendingPathComponent($0) }
    }
}
