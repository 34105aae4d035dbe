import Foundation
import Ingest
import Merge
import Settings

/// Where and how a merge, and the best adapter of an evaluated window, are published:
/// the one seam between making an adapter and handing it over. The daemon, `mwad merge`,
/// `mwad eval` and evaluation reach a target only through this protocol, so another
/// form of publication (a serving engine, a mirror) is its own file and a line in
/// ``PublicationCatalog``: see `docs/create_a_publication.md`.
///
/// A target is made for a layout (``PublicationDescription/make``), which names the
/// files of a merge; it reads them at each call, since a layout may learn them late
/// (a flat run's name, an undecided `auto`).
public protocol PublicationTarget: Sendable {
    /// Its name in `publish`, logs and status.
    var name: String { get }

    /// What is published for the configured `output`: the path a user's script loads,
    /// recorded in the ledger as the merge's output.
    func target(at output: String) -> String

    /// The merged adapter file in what is published at `output`.
    func adapterPath(at output: String) -> String

    /// Merges `plan` and publishes it at `output` atomically: on failure what was
    /// published before stays as it was. `writeAdapter` writes the adapter where the
    /// caller merges otherwise than by the plan's method (the daemon's running sum);
    /// `digests` are the members' SHA-256s where known. Returns the manifest written.
    func publish(_ plan: MergePlan, to output: String, now: Date, digests: [String]?,
                 writeAdapter: ((MergeOutput) throws(PublishError) -> Void)?) throws(PublishError) -> MergeManifest

    /// Whether a merge is published at `output` (the daemon merges again when not).
    func isPublished(at output: String) -> Bool

    /// Why `output` cannot take this target's merges of the run at `run`, beyond the
    /// rules every target shares (``OutputPlacement``); nil when it can.
    func placementProblem(_ output: String, run: String?) -> String?

    /// Hands over the finished adapter in `folder` (a frozen merge or candidate, a
    /// checkpoint's retained copy) at `output`, atomically, with `note` saying what it
    /// is; returns the path written. How the daemon publishes the best adapter and
    /// `mwad export` a checkpoint.
    func handOver(_ folder: String, to output: String, note: HandOverNote) throws(PublishError) -> String

    /// The path ``handOver(_:to:note:)`` writes for `output` and `note`.
    func handOverPath(at output: String, note: HandOverNote) -> String

    /// Puts what is published at `output` into the new folder `folder`, unchanged by
    /// later publications (hard links where it can, else copies): how a window is
    /// frozen for evaluation while the daemon goes on.
    func freeze(publishedAt output: String, into folder: String) throws

    /// How this target's merges are made in a scratch folder with no effect beyond it
    /// (`mwad eval` re-making a past window to check it): itself for the forms that
    /// only write the output; a target that also mirrors or tells a server returns the
    /// form it writes on disk.
    var scratch: any PublicationTarget { get }

    /// What an evaluator is handed for the adapter file `adapter` in `folder`: the
    /// folder, or the file where that is what the target's users load.
    func evaluatorPath(folder: String, adapter: String) -> String
}

/// What an adapter handed over is, written with it: a manifest (beside it as
/// `<key>.json`, or inside a single file's metadata under `key`), and the file name it
/// takes where the target publishes single files into a folder.
public struct HandOverNote: Sendable {
    public var key: String
    public var manifest: Data
    public var fileName: String
    /// The training step the adapter stands for (the window's newest, a checkpoint's).
    public var step: Int64?

    public init(key: String, manifest: Data, fileName: String, step: Int64? = nil) {
        self.key = key
        self.manifest = manifest
        self.fileName = fileName
        self.step = step
    }

    /// The manifest's file name beside a folder's adapter.
    public var manifestFile: String { "\(key).json" }
}

extension PublicationTarget {
    public func publish(_ plan: MergePlan, to output: String, now: Date = Date(), digests: [String]? = nil) throws(PublishError) -> MergeManifest {
        try publish(plan, to: output, now: now, digests: digests, writeAdapter: nil)
    }

    public func placementProblem(_ output: String, run: String?) -> String? { nil }

    public var scratch: any PublicationTarget { self }
}
