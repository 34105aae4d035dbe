import Foundation
import Ingest
import Publish
import Logging
import Settings
import Weigh
import Evaluate

/// Everything `mwad run` needs, resolved from defaults, the YAML file, `MWAD_*`
/// environment variables and command-line flags (later ones win).
public struct DaemonConfig: Sendable, Equatable {
    /// How changes in the watched directory are noticed.
    public enum WatchMode: String, Sendable, CaseIterable {
        /// inotify on local file systems, polling on network and FUSE ones.
        case auto
        case inotify
        case poll
    }

    public var watchDirectory: String
    public var output: String
    /// How merges are published at ``output`` (`publish`): `auto` (the layout's
    /// proposal) or a name in ``PublicationCatalog``.
    public var publish: String
    public var ledger: String
    public var stateDirectory: String
    public var merge: MergeSettings
    /// An exact recomputation of the running window sum after this many incremental
    /// updates (bounds floating-point drift).
    public var recomputeEvery: Int
    /// When window updates go through the running sum (`merge.running_sum`).
    public var runningSum: RunningSumPolicy
    public var watchMode: WatchMode
    /// The trainer's layout (`watch.layout`): `auto` or a name in ``LayoutCatalog``.
    public var layout: String
    /// The TensorBoard tag (or DiskLogger key) read as the loss; nil for the layout's default.
    public var metricsTag: String?
    /// The run's log folder (`metrics.logdir`), absolute or relative to the run; nil for the layout's own.
    public var metricsLogdir: String?
    /// Where mwad writes its own TensorBoard event file (`tensorboard.logdir`): a
    /// folder, `auto` (`<run>/<the layout's log folder>/mwad`), or nil for none.
    public var tensorboardLogdir: String?
    /// Seconds between scans in poll mode.
    public var pollInterval: Double
    /// Seconds between safety-net scans in every mode.
    public var reconcileInterval: Double
    /// Seconds without writes after which a checkpoint with only `mwad_metrics.json`
    /// (no `trainer_state.json`) counts as complete; also how long an unparsable
    /// `trainer_state.json` may stay unchanged before it counts as broken.
    public var settleTime: Double
    /// Seconds to wait after an event for more of the same burst.
    public var debounce: Double
    /// Seconds between heartbeats in the ledger.
    public var heartbeatInterval: Double
    /// Run after each publish (argv, never through a shell); empty for none.
    public var onMerge: [String]
    /// Seconds the hook may run before it is killed.
    public var hookTimeout: Double
    /// Where to write Prometheus metrics for node_exporter's textfile collector (a
    /// `.prom` file), after every change and every heartbeat; nil for none.
    public var metricsTextfile: String?
    /// Measuring each merge on the user's evaluator (`eval.*`); nil without `eval.command`.
    public var evaluation: EvalSettings?
    public var logLevel: Logger.Level
    /// Where the window's newest checkpoint is kept, beside the merge, after each merge
    /// (`eval.keep_newest`, with or without an evaluator); nil for nowhere.
    public var keepNewest: String? = nil
    /// Which checkpoints' retained copies outlive their place in the window
    /// (`eval.retain`).
    public var retain: Retain = .auto
    /// Publishing into a running serving engine (`serve.*`); nil when `serve.url` is unset.
    public var serve: ServeSettings?

    /// `eval.retain`: `window` deletes a copy once no merge window holds it; `all`
    /// keeps every checkpoint's copy for the run, so that `mwad eval` can re-make and
    /// score any window after it and `mwad export` reach any step; `auto` is `all`
    /// where an evaluator is configured (the live gate skips windows when saves come
    /// faster than it), else `window`.
    public enum Retain: String, Sendable, CaseIterable {
        case auto, window, all
    }

    /// Whether evicted checkpoints keep their retained copies.
    public var retainsAll: Bool { retain == .all || (retain == .auto && evaluation != nil) }

    /// The folder of mwad's event file, with the layout the run is read in.
    public func scoreBoardFolder(_ layout: any TrainerLayout) -> String? {
        tensorboardLogdir.map { $0 == "auto" ? "\(RunDirectory.folder(layout.logFolder, in: watchDirectory))/mwad" : $0 }
    }

    /// The publication target `publish` names, for `layout` (``makeLayout()``'s).
    public func makePublication(_ layout: any TrainerLayout) -> any PublicationTarget {
        PublicationCatalog.make(publish, layout: layout)
    }

    /// The layout `watch.layout` names, reading `metrics.tag` and `metrics.logdir`.
    public func makeLayout() -> any TrainerLayout {
        let source = MetricsSource(tag: metricsTag, logdir: metricsLogdir)
        return LayoutCatalog.named(layout).map { $0.make(source) } ?? AutoLayout(source: source)
    }
}
