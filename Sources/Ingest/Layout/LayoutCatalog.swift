import Foundation

/// A trainer layout as config, `--help`, status and the README's table describe it.
public struct LayoutDescription: Sendable {
    /// The name in `watch.layout`.
    public var name: String
    /// The trainers that write it.
    public var trainers: String
    /// What a checkpoint is, and how its step is known.
    public var checkpoint: String
    /// When a checkpoint counts as complete.
    public var completion: String
    /// Where its metrics come from.
    public var metrics: String
    /// How a merge is published.
    public var output: String
    /// The summary tag read from TensorBoard event files (`metrics.tag`), when it reads them.
    public var defaultTag: String?
    /// The layout, reading the run's log as `source` says where it reads one.
    public var make: @Sendable (_ source: MetricsSource) -> any TrainerLayout

    public init(name: String, trainers: String, checkpoint: String, completion: String, metrics: String, output: String,
                defaultTag: String?, make: @escaping @Sendable (_ source: MetricsSource) -> any TrainerLayout) {
        self.name = name
        self.trainers = trainers
        self.checkpoint = checkpoint
        self.completion = completion
        self.metrics = metrics
        self.output = output
        self.defaultTag = defaultTag
        self.make = make
    }
}

/// The layouts mwad knows, and how `watch.layout: auto` picks one from what a run
/// directory holds.
public enum LayoutCatalog {
    /// One line per layout: its description, and what in a run directory shows it
    /// (a sentence for logs and status, nil when the directory does not show it).
    public static let builtIn: [(description: LayoutDescription, evidence: @Sendable (String, [String]) -> String?)] = [
        (HuggingFaceLayout.description, HuggingFaceLayout.evidence),
        (DiffusersLayout.description, DiffusersLayout.evidence),
        (TorchtuneLayout.description, TorchtuneLayout.evidence),
        (FlatLayout.description, FlatLayout.evidence),
    ]

    /// The names `watch.layout` takes.
    public static var names: [String] { ["auto"] + builtIn.map(\.description.name) }

    /// The layout named `name`.
    public static func named(_ name: String) -> LayoutDescription? {
        builtIn.first { $0.description.name == name }?.description
    }

    /// The layout whose checkpoints `directory` holds, and what shows it; nil while it
    /// holds none that any layout recognises (an empty run so far).
    public static func detect(in directory: String) -> (description: LayoutDescription, evidence: String)? {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return nil }
        for layout in builtIn {
            if let evidence = layout.evidence(directory, entries) { return (layout.description, evidence) }
        }
        return nil
    }

    /// The layout of one checkpoint folder named by the user (`mwad merge FOLDER…`).
    public static func detect(folder: String) -> LayoutDescription? {
        let parent = (folder as NSString).deletingLastPathComponent
        let name = (folder as NSString).lastPathComponent
        return builtIn.first { $0.evidence(parent, [name]) != nil }?.description
    }
}
