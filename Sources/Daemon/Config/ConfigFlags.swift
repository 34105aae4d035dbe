import Foundation

/// Config keys that `mwad run` also takes as flags of their own name (`eval.command` is
/// `--eval-command`), declared once here: the parser sees each as `--set KEY=VALUE`
/// (``rewrite(_:)``), `mwad run --help` lists them from this table, and the value goes
/// through the same reading and checks as the config file's.
public enum ConfigFlags {
    public struct Flag: Sendable {
        public var key: String
        public var flag: String
        public var help: String
    }

    public static let declared: [Flag] = [
        Flag(key: "publish", flag: "--publish",
             help: "how merges are published: auto (the layout's proposal: a file for flat, else a folder), folder, file, or a registered target"),
        Flag(key: "eval.command", flag: "--eval-command",
             help: "the evaluator, its argv comma-separated (no shell): it scores the adapter in $MWAD_ADAPTER and prints a JSON object as its last line"),
        Flag(key: "eval.metric", flag: "--eval-metric", help: "the key of the evaluator's JSON object that is the score"),
        Flag(key: "eval.goal", flag: "--eval-goal", help: "minimize (a loss) or maximize (an accuracy)"),
        Flag(key: "eval.timeout", flag: "--eval-timeout", help: "seconds before an evaluation is killed and recorded as failed"),
        Flag(key: "eval.nice", flag: "--eval-nice", help: "the evaluator's niceness, 0 to 19"),
        Flag(key: "eval.best_output", flag: "--best-output", help: "where the best adapter of each evaluated window is published"),
        Flag(key: "eval.min_members", flag: "--eval-min-members",
             help: "the fewest members a window needs to be evaluated (a one-member window's merge is its checkpoint)"),
        Flag(key: "eval.mode", flag: "--eval-mode",
             help: "per-adapter (a process per adapter) or persistent (started once, a JSON line per adapter on its stdin: REFERENCE)"),
        Flag(key: "eval.stale_after", flag: "--eval-stale-after",
             help: "saves behind the run after which mwad status calls the best adapter stale"),
        Flag(key: "eval.keep_newest", flag: "--keep-newest",
             help: "where the window's newest checkpoint is kept after each merge, byte for byte (with or without an evaluator)"),
        Flag(key: "eval.retain", flag: "--retain",
             help: "auto, window or all: all keeps every checkpoint's copy for the run, so that mwad eval can score any window afterwards (auto: all with an evaluator)"),
        Flag(key: "eval.candidates", flag: "--eval-candidates",
             help: "other settings evaluated for the same window, ';' between candidates: method=svd;weighting=ema,half_life=40"),
    ]

    /// The option every declared flag becomes.
    public static let option = "--set"

    /// Every flag's line of help, with its key and default.
    public static var help: String {
        let defaults = Dictionary(ConfigLoader.keys.map { ($0.key, $0.defaultValue) }) { first, _ in first }
        return "A config key, also written as its own flag: " + declared.map { flag in
            let value = defaults[flag.key] ?? ""
            return "\(flag.flag) (\(flag.key)): \(flag.help)" + (value.isEmpty ? "." : "; default \(value).")
        }.joined(separator: " ")
    }

    /// `--eval-command X` and `--eval-command=X` as `--set eval.command=X`, in the
    /// arguments of `mwad run` and `mwad eval` only.
    public static func rewrite(_ arguments: [String]) -> [String] {
        guard arguments.first == "run" || arguments.first == "eval" else { return arguments }
        return rewrite(arguments, flags: Dictionary(declared.map { ($0.flag, $0.key) }) { first, _ in first }, as: option)
    }

    /// `FLAG VALUE` and `FLAG=VALUE` as `OPTION NAME=VALUE` for every flag in `flags`
    /// (flag → name), before the arguments are parsed: the parser is told of one
    /// option, the table (the catalog, this file) of the names. Stops at `--`.
    public static func rewrite(_ arguments: [String], flags: [String: String], as option: String) -> [String] {
        var out: [String] = []
        var index = 0
        while index < arguments.count {
            let word = arguments[index]
            if word == "--" { out += arguments[index...]; break }
            let parts = word.split(separator: "=", maxSplits: 1).map(String.init)
            if let name = flags[parts[0]] {
                let value = parts.count == 2 ? parts[1] : (index + 1 < arguments.count ? arguments[index + 1] : "")
                if parts.count != 2 { index += 1 }
                out += [option, "\(name)=\(value)"]
            } else {
                out.append(word)
            }
            index += 1
        }
        return out
    }

    /// The `--set` values given, by key; a key not declared here is an error.
    public static func values(_ entries: [String]) throws(ConfigError) -> [String: String] {
        var values: [String: String] = [:]
        for entry in entries {
            let parts = entry.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 2, declared.contains(where: { $0.key == parts[0] }) else {
                throw .invalid(key: "--set", value: entry, allowed: "KEY=VALUE with a KEY among " + declared.map(\.key).joined(separator: ", "))
            }
            values[parts[0]] = parts[1]
        }
        return values
    }
}
