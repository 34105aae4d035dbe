import Foundation
import Ingest
import Merge
import Settings
import Synchronization

/// A publication target as the catalog holds it: its name in `publish` and `--publish`,
/// a line of help, and how it is made for a layout.
public struct PublicationDescription: Sendable {
    public var name: String
    public var help: String
    public var make: @Sendable (any TrainerLayout) -> any PublicationTarget

    public init(name: String, help: String, make: @escaping @Sendable (any TrainerLayout) -> any PublicationTarget) {
        self.name = name
        self.help = help
        self.make = make
    }
}

/// A publication target that cannot be registered, and why.
public struct PublicationCatalogError: Error, CustomStringConvertible, Sendable {
    public var reason: String
    public var description: String { reason }
}

/// The publication targets mwad knows: the built-in ones, then those registered.
/// `publish: auto`, the default, is the one the run's layout proposes
/// (``OutputProposal/publication``).
public enum PublicationCatalog {
    public static let builtIn: [PublicationDescription] = [FolderPublication.description, FilePublication.description]

    private static let registered = Mutex<[PublicationDescription]>([])

    public static var all: [PublicationDescription] { builtIn + registered.withLock { $0 } }

    /// The names `publish` takes.
    public static var names: [String] { ["auto"] + all.map(\.name) }

    /// Each target with its help, for `--help` and the docs.
    public static var helpText: String {
        (["auto: the one the run's layout proposes (file for flat, else folder)"] + all.map { "\($0.name): \($0.help)" }).joined(separator: "; ")
    }

    /// Adds a target: from then on `publish` and `--publish` take its name, and the
    /// daemon, `mwad merge`, `mwad eval` and evaluation publish through it. Refuses
    /// `auto` and a name already taken.
    public static func register(_ description: PublicationDescription) throws(PublicationCatalogError) {
        try registered.withLock { (targets: inout [PublicationDescription]) throws(PublicationCatalogError) in
            let name = description.name
            guard name != "auto", !name.isEmpty, !name.contains(where: { $0.isWhitespace }) else {
                throw PublicationCatalogError(reason: "a publication target may not be named '\(name)'")
            }
            guard !(builtIn + targets).contains(where: { $0.name == name }) else {
                throw PublicationCatalogError(reason: "a publication target named \(name) is in the catalog already")
            }
            targets.append(description)
        }
    }

    /// The target named `name` for `layout`; `auto` (or an unknown name, which config
    /// checks refuse before) is the layout's proposal, asked at each call.
    public static func make(_ name: String, layout: any TrainerLayout) -> any PublicationTarget {
        guard let description = all.first(where: { $0.name == name }) else { return ProposedPublication(layout: layout) }
        return description.make(layout)
    }
}

/// `publish: auto`: the target the layout proposes, asked at each call, since a layout
/// may decide late (`watch.layout: auto`).
struct ProposedPublication: PublicationTarget {
    let layout: any TrainerLayout

    private var current: any PublicationTarget {
        let name = layout.output.publication
        return (PublicationCatalog.all.first { $0.name == name } ?? FolderPublication.description).make(layout)
    }

    var name: String { current.name }
    func target(at output: String) -> String { current.target(at: output) }
    func adapterPath(at output: String) -> String { current.adapterPath(at: output) }
    func publish(_ plan: MergePlan, to output: String, now: Date, digests: [String]?,
                 writeAdapter: ((MergeOutput) throws(PublishError) -> Void)?) throws(PublishError) -> MergeManifest {
        try current.publish(plan, to: output, now: now, digests: digests, writeAdapter: writeAdapter)
    }
    func isPublished(at output: String) -> Bool { current.isPublished(at: output) }
    func placementProblem(_ output: String, run: String?) -> String? { current.placementProblem(output, run: run) }
    func handOver(_ folder: String, to output: String, note: HandOverNote) throws(PublishError) -> String {
        try current.handOver(folder, to: output, note: note)
    }
    func handOverPath(at output: String, note: HandOverNote) -> String { current.handOverPath(at: output, note: note) }
    func freeze(publishedAt output: String, into folder: String) throws { try current.freeze(publishedAt: output, into: folder) }
    func evaluatorPath(folder: String, adapter: String) -> String { current.evaluatorPath(folder: folder, adapter: adapter) }
    var scratch: any PublicationTarget { current.scratch }
}
