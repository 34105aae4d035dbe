import Foundation
import Synchronization

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
    /// The summary tag read from TensorBoard event files when `metrics.tag` is not given:
    /// ``make(_:)`` hands it to the layout. Nil where the layout has none, or decides
    /// per trainer (`flat`: kohya's or ai-toolkit's).
    public var defaultTag: String?
    private let build: @Sendable (_ source: MetricsSource) -> any TrainerLayout

    /// The layout, reading the run's log as `source` says: its tag, else ``defaultTag``.
    public func make(_ source: MetricsSource) -> any TrainerLayout {
        build(MetricsSource(tag: source.tag ?? defaultTag, logdir: source.logdir))
    }

    public init(name: String, trainers: String, checkpoint: String, completion: String, metrics: String, output: String,
                defaultTag: String?, make: @escaping @Sendable (_ source: MetricsSource) -> any TrainerLayout) {
        self.name = name
        self.trainers = trainers
        self.checkpoint = checkpoint
        self.completion = completion
        self.metrics = metrics
        self.output = output
        self.defaultTag = defaultTag
        build = make
    }
}

/// The layouts mwad knows, and how `watch.layout: auto` picks one from what a run
/// directory holds.
public enum LayoutCatalog {
    /// What in a run directory (its path, its entries) shows a layout: a sentence for
    /// logs and status, nil when the directory does not show it.
    public typealias Evidence = @Sendable (_ directory: String, _ entries: [String]) -> String?

    /// One line per layout: its description, and its evidence.
    public static let builtIn: [(description: LayoutDescription, evidence: Evidence)] = [
        (HuggingFaceLayout.description, HuggingFaceLayout.evidence),
        (DiffusersLayout.description, DiffusersLayout.evidence),
        (TorchtuneLayout.description, TorchtuneLayout.evidence),
        (FlatLayout.description, FlatLayout.evidence),
    ]

    private static let registered = Mutex<[(description: LayoutDescription, evidence: Evidence)]>([])

    /// Every layout: the built-in ones, then those registered, in order (auto-detection
    /// asks them in this order).
    public static var all: [(description: LayoutDescription, evidence: Evidence)] { builtIn + registered.withLock { $0 } }

    /// Adds a layout: from then on `watch.layout` and `--layout` take its name,
    /// auto-detection asks its evidence (after the built-in ones), and every command
    /// reads runs in it. Refuses `auto` and a name already taken.
    public static func register(_ description: LayoutDescription, evidence: @escaping Evidence) throws(LayoutCatalogError) {
        try registered.withLock { (layouts: inout [(description: LayoutDescription, evidence: Evidence)]) throws(LayoutCatalogError) in
            let name = description.name
            guard name != "auto", !name.isEmpty, !name.contains(where: { $0.isWhitespace }) else {
                throw LayoutCatalogError(reason: "a layout may not be named '\(name)'")
            }
            guard !(builtIn + layouts).contains(where: { $0.description.name == name }) else {
                throw LayoutCatalogError(reason: "a layout named \(name) is in the catalog already")
            }
            layouts.append((description, evidence))
        }
    }

    /// What the catalog's layouts make of the entry `name` of `run`: a checkpoint where
    /// one of them reads it so, else a malformed checkpoint name where one says that,
    /// else `.other`. For messages and checks that hold whichever layout reads the run.
    public static func classify(_ name: String, in run: String) -> CheckpointName {
        let answers = all.map { $0.description.make(MetricsSource()).classify(name, in: run) }
        return answers.first { if case .checkpoint = $0 { true } else { false } } ?? answers.first { $0 != .other } ?? .other
    }

    /// Each layout with the trainers that write it, for `--help`:
    /// `huggingface: Hugging Face Trainer, TRL, …; diffusers: …`.
    public static var helpText: String {
        all.map { "\($0.description.name): \($0.description.trainers)" }.joined(separator: "; ")
    }

    /// The names `watch.layout` takes.
    public static var names: [String] { ["auto"] + all.map(\.description.name) }

    /// The layout named `name`.
    public static func named(_ name: String) -> LayoutDescription? {
        all.first { $0.description.name == name }?.description
    }

    /// The layout whose checkpoints `directory` holds, and what shows it; nil while it
    /// holds none that any layout recognises (an empty run so far).
    public static func detect(in directory: String) -> (description: LayoutDescription, evidence: String)? {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return nil }
        for layout in all {
            if let evidence = layout.evidence(directory, entries) { return (layout.description, evidence) }
        }
        return nil
    }

    /// The layout of one checkpoint folder named by the user (`mwad merge FOLDER…`).
    public static func detect(folder: String) -> LayoutDescription? {
        let parent = (folder as NSString).deletingLastPathComponent
        let name = (folder as NSString).lastPathComponent
        return all.first { $0.evidence(parent, [name]) != nil }?.description
    }
}

/// Why a layout could not join the catalog.
public struct LayoutCatalogError: Error, Sendable, CustomStringConvertible {
    public var reason: String
    public var description: String { reason }
}
