import Configuration
import Foundation
import Ingest
import Ledger
import Publish
import Logging
import Settings
import Weigh
import Yams

/// Reads ``DaemonConfig`` with apple/swift-configuration: flags, then `MWAD_*`
/// environment variables (key `merge.window` is `MWAD_MERGE_WINDOW`), then the YAML
/// file, then the defaults. Every value is checked; a bad one names its key and what
/// is allowed.
public enum ConfigLoader {
    /// Every key, with its default as text ("" where it is derived from others). The
    /// merge settings' keys come from the catalog: a registered weighting's parameter
    /// is a key as soon as it is registered.
    public static var keys: [(key: String, defaultValue: String)] { keys(.shared) }

    /// The keys with the merge settings `catalog` knows.
    public static func keys(_ catalog: Catalog) -> [(key: String, defaultValue: String)] {
        baseKeys.prefix(11) + SettingsText.names(catalog).map { ("merge.\($0)", SettingsText.defaultText($0, catalog: catalog)) }
            + baseKeys.dropFirst(11)
    }

    /// The `merge.*` keys that are the daemon's, not settings of the value stored with
    /// each merge (`merge.recompute_every`, `merge.running_sum`).
    public static var daemonMergeKeys: [String] { baseKeys.map(\.key).filter { $0.hasPrefix("merge.") } }

    private static let baseKeys: [(key: String, defaultValue: String)] = [
        ("watch.directory", ""), ("watch.mode", "auto"), ("watch.poll_interval", "5"),
        ("watch.reconcile_interval", "60"), ("watch.settle_time", "10"), ("watch.debounce", "0.5"), ("watch.layout", "auto"),
        ("output", ""), ("publish", "auto"), ("ledger", ""), ("state_directory", ""),
        ("merge.recompute_every", "50"), ("merge.running_sum", "auto"),
        ("hook.on_merge", ""), ("hook.timeout", "60"),
        ("heartbeat_interval", "10"), ("log.level", "info"), ("metrics.textfile", ""), ("metrics.tag", ""), ("metrics.logdir", ""),
        ("tensorboard.logdir", ""),
        ("eval.command", ""), ("eval.metric", "eval_loss"), ("eval.goal", "minimize"), ("eval.timeout", "900"),
        ("eval.nice", "10"), ("eval.best_output", ""), ("eval.candidates", ""), ("eval.min_members", "2"), ("eval.stale_after", "5"), ("eval.mode", "per-adapter"), ("eval.keep_newest", ""), ("eval.retain", "auto"),
        ("serve.url", ""), ("serve.name", "mwa"), ("serve.dir", ""), ("serve.keep", "3"), ("serve.publish", "auto"), ("serve.token_file", ""),
        ("serve.max_rank", "16"), ("serve.timeout", "30"), ("serve.check_every", "30"),
    ]

    /// The keys whose value is a program and its arguments.
    static let argvKeys: Set<String> = ["eval.command", "hook.on_merge"]

    /// Loads the configuration. `flags` maps keys to values given on the command line.
    public static func load(file: String?, environment: [String: String], flags: [String: String]) async throws(ConfigError) -> DaemonConfig {
        var providers: [any ConfigProvider] = [
            // An argv given as a flag is comma-separated, as in the environment.
            InMemoryProvider(name: "flags", values: Dictionary(uniqueKeysWithValues: flags.map {
                (AbsoluteConfigKey(stringLiteral: $0.key), ConfigValue(argvKeys.contains($0.key)
                    ? .stringArray($0.value.split(separator: ",").map(String.init)) : .string($0.value), isSecret: false))
            })),
            EnvironmentVariablesProvider(environmentVariables: environment).prefixKeys(with: "mwad"),
        ]
        var candidates = try CandidateList.parse(flags["eval.candidates"] ?? environment["MWAD_EVAL_CANDIDATES"])
        if let file, let tree = try checkKeys(file) {
            let commands = fileValues(tree, prefix: "").keys.map { $0.components.joined(separator: ".") }
                .filter { argvKeys.contains($0) }.sorted()
            if !commands.isEmpty, let problem = ConfigTrust.problem(file, commandKeys: commands) { throw .file(path: file, reason: problem) }
            if candidates == nil { candidates = try CandidateList.parse(tree, file: file) }
            // The file as parsed by Yams: swift-configuration's own YAML reader refuses
            // a list of mappings, which eval.candidates is.
            providers.append(InMemoryProvider(name: file, values: fileValues(tree, prefix: "")))
        }
        return try read(ConfigReader(providers: providers), environment: environment, candidates: candidates ?? [])
    }

    private static func read(_ config: ConfigReader, environment: [String: String],
                             candidates: [[String: String]]) throws(ConfigError) -> DaemonConfig {
        let values = Values(config: config)
        guard let watch = try values.string("watch.directory") else {
            throw .missing(key: "watch.directory", hint: "the trainer's output directory: --watch, MWAD_WATCH_DIRECTORY or the config file")
        }
        let directory = RunDirectory.absolute(watch)
        let settings = try values.settings()
        // The state directory: as given; else beside a ledger given; else the default.
        let ledger = try values.string("ledger").map(RunDirectory.absolute)
        let state = try values.string("state_directory").map(RunDirectory.absolute)
            ?? ledger.map { ($0 as NSString).deletingLastPathComponent }
            ?? LedgerLocation.stateDirectory(watch: directory, environment: environment)
        var config = DaemonConfig(
            watchDirectory: directory,
            output: try values.string("output").map(RunDirectory.absolute) ?? "\(directory)/mwa-merged",
            publish: try values.parse("publish", PublicationCatalog.names.joined(separator: ", ")) { PublicationCatalog.names.contains($0) ? $0 : nil },
            ledger: ledger ?? "\(state)/\(LedgerLocation.fileName)",
            stateDirectory: state,
            merge: settings,
            recomputeEvery: try values.parse("merge.recompute_every", "a whole number >= 1") { Int($0).flatMap { $0 >= 1 ? $0 : nil } },
            runningSum: try values.choice("merge.running_sum", RunningSumPolicy.self),
            watchMode: try values.choice("watch.mode", DaemonConfig.WatchMode.self),
            layout: try values.parse("watch.layout", LayoutCatalog.names.joined(separator: ", ")) { LayoutCatalog.names.contains($0) ? $0 : nil },
            metricsTag: try values.string("metrics.tag"),
            metricsLogdir: try values.string("metrics.logdir"),
            tensorboardLogdir: try values.string("tensorboard.logdir").map { $0 == "auto" ? $0 : RunDirectory.absolute($0) },
            pollInterval: try values.seconds("watch.poll_interval"),
            reconcileInterval: try values.seconds("watch.reconcile_interval"),
            settleTime: try values.seconds("watch.settle_time"),
            debounce: try values.parse("watch.debounce", "a number of seconds >= 0") { Double($0).flatMap { $0 >= 0 && $0 < 3600 ? $0 : nil } },
            heartbeatInterval: try values.seconds("heartbeat_interval"),
            onMerge: try values.argv("hook.on_merge"),
            hookTimeout: try values.seconds("hook.timeout"),
            metricsTextfile: try values.string("metrics.textfile").map(RunDirectory.absolute),
            evaluation: try EvalConfig.read(values, candidates: candidates, base: settings),
            logLevel: try values.parse("log.level", "trace, debug, info, notice, warning, error or critical") { Logger.Level(rawValue: $0) },
            keepNewest: try values.string("eval.keep_newest").map(RunDirectory.absolute),
            retain: try values.choice("eval.retain", DaemonConfig.Retain.self),
            serve: try ServeSettings.read(values, stateDirectory: state))
        if config.serve != nil, let problem = ServeSettings.layoutProblem(config.layout) {
            throw .invalid(key: "serve.url", value: config.serve!.url, allowed: "a run mwad can serve: \(problem)")
        }
        // Serving each best needs the best handed over somewhere: under the state directory unless given.
        if let serve = config.serve, serve.publishesBest(evaluating: config.evaluation != nil), config.evaluation?.bestOutput == nil {
            config.evaluation?.bestOutput = "\(state)/best"
        }
        return config
    }

    /// Refuses keys the file has that mwad does not know: a typo would otherwise
    /// silently leave a default in force.
    @discardableResult
    static func checkKeys(_ file: String) throws(ConfigError) -> Node? {
        let text: String
        guard FileManager.default.fileExists(atPath: file) else { throw .file(path: file, reason: "no such configuration file") }
        do { text = try String(contentsOfFile: file, encoding: .utf8) } catch {
            throw .file(path: file, reason: "cannot be read: \(RunDirectory.reason(error))")
        }
        let node: Node?
        do { node = try Yams.compose(yaml: text) } catch { throw .file(path: file, reason: "not valid YAML: \(error)") }
        guard let node else { return nil }  // empty file
        guard node.mapping != nil else { throw .file(path: file, reason: "the top level must be a mapping of keys") }
        let known = Set(keys.map(\.key))
        for key in leafKeys(node, prefix: "") where !known.contains(key) {
            throw .unknownKey(file: file, key: key)
        }
        return node
    }

    /// The file's scalars and lists of scalars by dotted key; `null` and empty values
    /// are absent; lists of mappings (eval.candidates) are read by ``CandidateList``.
    static func fileValues(_ node: Node, prefix: String) -> [AbsoluteConfigKey: ConfigValue] {
        if let mapping = node.mapping {
            var values: [AbsoluteConfigKey: ConfigValue] = [:]
            for (key, value) in mapping {
                let name = prefix.isEmpty ? (key.string ?? "?") : "\(prefix).\(key.string ?? "?")"
                values.merge(fileValues(value, prefix: name)) { $1 }
            }
            return values
        }
        let key = AbsoluteConfigKey(stringLiteral: prefix)
        if let list = node.sequence {
            let items = list.compactMap { $0.scalar?.string }
            return items.count == list.count ? [key: ConfigValue(.stringArray(items), isSecret: false)] : [:]
        }
        guard let scalar = node.scalar, !["", "~", "null", "Null", "NULL"].contains(scalar.string) || scalar.style != .plain
        else { return [:] }
        return [key: ConfigValue(.string(scalar.string), isSecret: false)]
    }

    private static func leafKeys(_ node: Node, prefix: String) -> [String] {
        guard let mapping = node.mapping else { return [prefix] }
        return mapping.flatMap { key, value -> [String] in
            let name = prefix.isEmpty ? (key.string ?? "?") : "\(prefix).\(key.string ?? "?")"
            // A whole section may be a known key's prefix only if it is a mapping.
            return value.mapping != nil ? leafKeys(value, prefix: name) : [name]
        }
    }
}

/// Reads keys as text and checks them, naming the key on error.
struct Values {
    var config: ConfigReader

    func defaultValue(_ key: String) -> String {
        ConfigLoader.keys.first { $0.key == key }?.defaultValue ?? ""
    }

    /// The text of `key`, nil when absent or empty. A list where one value belongs is
    /// an error, not a silent default.
    func string(_ key: String) throws(ConfigError) -> String? {
        let configKey = ConfigKey(key)
        if let text = config.string(forKey: configKey) { return text.isEmpty ? nil : text }
        if let list = config.stringArray(forKey: configKey) {
            throw .invalid(key: key, value: list.joined(separator: ","), allowed: "a single value, not a list")
        }
        return nil
    }

    func parse<T>(_ key: String, _ allowed: String, _ convert: (String) -> T?) throws(ConfigError) -> T {
        let text = try string(key) ?? defaultValue(key)
        guard let value = convert(text.trimmingCharacters(in: .whitespaces)) else {
            throw .invalid(key: key, value: text, allowed: allowed)
        }
        return value
    }

    func choice<T: RawRepresentable & CaseIterable>(_ key: String, _ type: T.Type) throws(ConfigError) -> T where T.RawValue == String {
        try parse(key, "one of " + T.allCases.map(\.rawValue).joined(separator: ", ")) { T(rawValue: $0) }
    }

    /// The merge settings from the `merge.*` keys, over the defaults.
    func settings() throws(ConfigError) -> MergeSettings {
        var texts: [String: String] = [:]
        for name in SettingsText.names() {
            if let text = try string("merge.\(name)") { texts[name] = text }
        }
        do { return try SettingsText.read({ texts[$0] }, over: MergeSettings(), strict: false) } catch {
            throw ConfigError(error, prefix: "merge.")
        }
    }

    func seconds(_ key: String) throws(ConfigError) -> Double {
        try parse(key, "a number of seconds > 0") { Double($0).flatMap { $0 > 0 && $0 < 86_400 * 365 ? $0 : nil } }
    }

    /// A command as argv: a YAML list, or (from the environment or a flag) a
    /// comma-separated string.
    func argv(_ key: String) throws(ConfigError) -> [String] {
        let configKey = ConfigKey(key)
        if let list = config.stringArray(forKey: configKey) { return list.filter { !$0.isEmpty } }
        if let text = config.string(forKey: configKey) {
            throw .invalid(key: key, value: text, allowed: "a list of program and arguments, e.g. [\"/usr/bin/sync-model\", \"--fast\"]")
        }
        return []
    }
}
