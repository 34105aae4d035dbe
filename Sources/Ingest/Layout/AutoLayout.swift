import Foundation
import Synchronization

/// `watch.layout: auto`: the layout is decided from what the run directory holds, the
/// first time one of its checkpoint folders shows which trainer wrote it (see
/// ``LayoutCatalog/detect(in:)``), and kept from then on. Until then every folder
/// that could be a checkpoint waits, saying why.
public final class AutoLayout: TrainerLayout {
    /// The `metrics.*` settings given, for the layout decided.
    public let source: MetricsSource
    private let decided = Mutex<(layout: any TrainerLayout, evidence: String)?>(nil)
    /// Folders named by the undecided guess, whose step may not be the layout's.
    private let guessed = Mutex<Set<String>>([])

    public init(source: MetricsSource = MetricsSource()) {
        self.source = source
    }

    /// The layout decided and what showed it; nil while undecided.
    public var decision: (layout: any TrainerLayout, evidence: String)? { decided.withLock { $0 } }

    /// Decides from the run directory `run` unless decided already; the layout, if any.
    @discardableResult
    public func decide(run: String) -> (any TrainerLayout)? {
        decided.withLock { decided in
            if let decided { return decided.layout }
            guard let found = LayoutCatalog.detect(in: run) else { return nil }
            decided = (found.description.make(source), found.evidence)
            return decided!.layout
        }
    }

    /// The layout decided, else Hugging Face Trainer's (whose answers are not acted on:
    /// ``completion(of:now:settleTime:)`` waits until the decision).
    private var current: any TrainerLayout { decision?.layout ?? HuggingFaceLayout() }

    public var name: String { decision?.layout.name ?? "auto" }

    public func classify(_ name: String, in run: String) -> CheckpointName {
        if let layout = decide(run: run) { return layout.classify(name, in: run) }
        // Undecided: any name a layout takes for a checkpoint is one, to be looked at.
        let epoch = CheckpointName(name, prefix: "epoch_", noun: "epoch number")
        let guess = CheckpointName(name) != .other ? CheckpointName(name) : epoch
        if case .checkpoint = guess { _ = guessed.withLock { $0.insert("\(run)/\(name)") } }
        return guess
    }

    public var requiredFiles: [String] { current.requiredFiles }
    public var checkpointsAreFiles: Bool { current.checkpointsAreFiles }
    public func path(of file: String, in checkpoint: String) -> String { current.path(of: file, in: checkpoint) }
    public var configFile: String? { current.configFile }
    public var adapterFormat: AdapterFormat { current.adapterFormat }
    public var metricsFiles: [String] { current.metricsFiles }
    public var output: OutputProposal { current.output }
    public var logFolder: String { current.logFolder }

    public func completion(of folder: String, now: Date, settleTime: TimeInterval) -> Completion {
        guard let layout = decide(run: (folder as NSString).deletingLastPathComponent) else {
            return .waiting("no trainer's layout recognised yet (watch.layout is auto: no checkpoint folder holds an adapter file mwad knows)")
        }
        // Decided just now: the folder was named and stepped by the undecided guess
        // (torchtune's step is not its epoch number), so it is looked at again.
        if guessed.withLock({ $0.remove(RunDirectory.absolute(folder)) != nil || $0.remove(folder) != nil }) {
            return .waiting("the layout was just decided (\(layout.name)); the folder is read at the next look")
        }
        return layout.completion(of: folder, now: now, settleTime: settleTime)
    }

    public func metrics(in folder: String) throws(IngestError) -> TrainerState { try current.metrics(in: folder) }

    public func loggedMetrics(of folder: String, step: Int64) -> TrainerState? { current.loggedMetrics(of: folder, step: step) }

    public func takeLogProblems() -> [String] { current.takeLogProblems() }
}
