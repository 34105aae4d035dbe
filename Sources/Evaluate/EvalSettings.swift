import Foundation
import Settings
import Weigh

/// How the daemon measures its merges on the user's own evaluation (`eval.*` keys).
public struct EvalSettings: Sendable, Equatable {
    /// Whether a higher or a lower score is better.
    public enum Goal: String, Sendable, CaseIterable {
        case minimize, maximize
    }

    /// How the evaluator runs: a process per adapter, or one process that stays up and
    /// answers a JSON line per adapter (see ``PersistentEvaluator``).
    public enum Mode: String, Sendable, CaseIterable {
        case perAdapter = "per-adapter", persistent
    }

    /// The evaluator, as argv (never a shell). It gets the adapter folder in
    /// `MWAD_ADAPTER` (for a layout of single files, such as kohya's, the file), the
    /// adapter file in `MWAD_ADAPTER_FILE`, and prints its score as the last line of
    /// stdout: a JSON object.
    public var command: [String]
    /// The key of that object that is the score.
    public var metric: String
    public var goal: Goal
    /// Seconds before an evaluation is killed.
    public var timeout: Double
    /// The evaluator's niceness (0–19): training keeps the machine first.
    public var nice: Int
    /// Where the best adapter of each evaluated window is published; nil for nowhere.
    public var bestOutput: String?
    /// Other settings merged for the same window and evaluated too (full settings:
    /// the daemon's with the candidate's keys over them).
    public var candidates: [MergeSettings]
    /// The fewest members a window needs to be evaluated: a one-member window's merge
    /// is its checkpoint, which the next window evaluates anyway.
    public var minMembers: Int
    /// Saves behind the run after which status calls the best adapter stale.
    public var staleAfter: Int
    public var mode: Mode

    public init(command: [String], metric: String = "eval_loss", goal: Goal = .minimize, timeout: Double = 900, nice: Int = 10,
                bestOutput: String? = nil, candidates: [MergeSettings] = [], minMembers: Int = 2, staleAfter: Int = 5,
                mode: Mode = .perAdapter) {
        self.mode = mode
        self.minMembers = minMembers
        self.staleAfter = staleAfter
        self.command = command
        self.metric = metric
        self.goal = goal
        self.timeout = timeout
        self.nice = nice
        self.bestOutput = bestOutput
        self.candidates = candidates
    }

    /// Whether `a` is a better score than `b`.
    public func isBetter(_ a: Double, than b: Double) -> Bool {
        goal == .minimize ? a < b : a > b
    }
}
