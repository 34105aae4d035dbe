import Evaluate
import Foundation
import Ingest
import Settings
import Weigh
import Yams

/// The `eval.*` keys: the evaluator, its metric and goal, where the best adapter goes,
/// and the candidate settings.
enum EvalConfig {
    static func read(_ values: Values, candidates: [[String: String]], base: MergeSettings) throws(ConfigError) -> EvalSettings? {
        let command = try values.argv("eval.command")
        guard !command.isEmpty else { return nil }
        var settings: [MergeSettings] = []
        for keys in candidates { settings.append(try candidate(keys, base: base)) }
        return EvalSettings(
            command: command,
            metric: try values.parse("eval.metric", "the key of the evaluator's JSON line, e.g. eval_loss") { $0.isEmpty ? nil : $0 },
            goal: try values.choice("eval.goal", EvalSettings.Goal.self),
            timeout: try values.seconds("eval.timeout"),
            nice: try values.parse("eval.nice", "a whole number from 0 to 19") { Int($0).flatMap { (0...19).contains($0) ? $0 : nil } },
            bestOutput: try values.string("eval.best_output").map(RunDirectory.absolute),
            candidates: settings,
            minMembers: try values.parse("eval.min_members", "a whole number >= 1") { Int($0).flatMap { $0 >= 1 ? $0 : nil } },
            staleAfter: try values.parse("eval.stale_after", "a whole number of saves >= 0") { Int($0).flatMap { $0 >= 0 ? $0 : nil } },
            mode: try values.choice("eval.mode", EvalSettings.Mode.self))
    }

    /// `base` with the candidate's keys over it, checked. A candidate may name any
    /// method, weighting, window and parameter the catalog knows, but not `window:
    /// all`: a candidate is merged from the daemon's retained window.
    static func candidate(_ keys: [String: String], base: MergeSettings) throws(ConfigError) -> MergeSettings {
        let names = Set(SettingsText.names())
        let written = keys.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ")
        for key in keys.keys where !names.contains(key) {
            throw .invalid(key: "eval.candidates", value: written, allowed: "settings named " + SettingsText.names().joined(separator: ", ") + " ('\(key)' is none of them)")
        }
        do {
            let settings = try SettingsText.read({ keys[$0] }, over: base)
            guard settings.window.count != nil else {
                throw WeighError.invalidSetting(name: "window", value: "all", allowed: "a number: a candidate is merged from the retained window, which window all does not keep")
            }
            return settings
        } catch {
            throw .invalid(key: "eval.candidates", value: written, allowed: "\(error)")
        }
    }
}

/// `eval.candidates`: in the file, a list of mappings (`- {weighting: uniform}`); in
/// `MWAD_EVAL_CANDIDATES`, the same as `weighting=uniform;weighting=loss,penalty=2`.
enum CandidateList {
    static func parse(_ text: String?) throws(ConfigError) -> [[String: String]]? {
        guard let text, !text.isEmpty else { return nil }
        return try text.split(separator: ";").map { entry throws(ConfigError) in
            var keys: [String: String] = [:]
            for pair in entry.split(separator: ",") {
                let parts = pair.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                guard parts.count == 2 else {
                    throw .invalid(key: "eval.candidates", value: text, allowed: "KEY=VALUE,…;KEY=VALUE,… (e.g. weighting=uniform;penalty=2)")
                }
                keys[parts[0]] = parts[1]
            }
            return keys
        }
    }

    static func parse(_ tree: Node, file: String) throws(ConfigError) -> [[String: String]]? {
        guard let node = tree.mapping?["eval"]?.mapping?["candidates"] else { return nil }
        if node.scalar != nil, node.string?.isEmpty ?? true { return nil }
        guard let list = node.sequence else {
            throw .invalid(key: "eval.candidates", value: node.string ?? "?", allowed: "a list of settings, e.g. - {weighting: uniform}")
        }
        return try list.map { item throws(ConfigError) in
            guard let mapping = item.mapping else {
                throw .invalid(key: "eval.candidates", value: item.string ?? "?", allowed: "a mapping such as {weighting: uniform, penalty: 0}")
            }
            return Dictionary(uniqueKeysWithValues: mapping.map { ($0.key.string ?? "?", $0.value.string ?? "") })
        }
    }
}
