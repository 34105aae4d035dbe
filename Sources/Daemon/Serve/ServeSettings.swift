import Foundation
import Ingest

/// The `serve.*` keys: where the adapter is published into a running serving engine
/// (vLLM's runtime LoRA loading), under what name, from which versioned folders, at
/// what rank at most, and after what (each new best, or each merge).
public struct ServeSettings: Sendable, Equatable {
    public enum Trigger: String, Sendable, CaseIterable {
        /// The best of each evaluated window with an evaluator, else each merge.
        case auto
        case best
        case merge
    }

    /// The server's base URL (`http://127.0.0.1:8000`).
    public var url: String
    /// The adapter's name in the server (`model` in its requests).
    public var name: String
    /// Where the versioned folders go (`<dir>/<name>-<step>-<shortsha>/`).
    public var directory: String
    /// How many versions are kept (the one loaded always).
    public var keep: Int
    public var trigger: Trigger
    /// A file holding the bearer token (never logged, never in the ledger).
    public var tokenFile: String?
    /// An adapter of a higher rank is published as its truncated SVD at this rank
    /// (vLLM's default `--max-lora-rank` is 16); 0: no cap.
    public var maxRank: Int
    /// Seconds for one request; a load is tried twice.
    public var timeout: Double
    /// Seconds between looks at what the server serves (a restarted server has lost
    /// its runtime loads; a failed one is tried again); 0: only at each new adapter.
    public var checkEvery: Double = 30

    /// What publishing into the server is triggered by, given whether an evaluator runs.
    public func publishesBest(evaluating: Bool) -> Bool {
        switch trigger {
        case .auto: evaluating
        case .best: true
        case .merge: false
        }
    }

    /// The layouts whose adapters vLLM can load: those publishing a PEFT folder (the
    /// adapter with its config), read from the layout catalog.
    public static var servableLayouts: [String] {
        LayoutCatalog.all.map(\.description).filter { $0.make(MetricsSource(tag: nil, logdir: nil)).output.configFile != nil }.map(\.name)
    }

    /// Why `layout` cannot be served, where it cannot (`auto` is judged once decided).
    public static func layoutProblem(_ layout: String) -> String? {
        guard let description = LayoutCatalog.named(layout) else { return nil }
        let output = description.make(MetricsSource(tag: nil, logdir: nil)).output
        guard output.configFile == nil else { return nil }
        return "vLLM loads PEFT adapter folders (an adapter with its adapter_config.json); the \(layout) layout publishes \(output.adapterFile) without one. Serving takes the layouts \(servableLayouts.joined(separator: ", ")); unset serve.url for this run"
    }

    static func read(_ values: Values, stateDirectory: String) throws(ConfigError) -> ServeSettings? {
        guard let url = try values.string("serve.url") else { return nil }
        guard let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme ?? ""), parsed.host != nil else {
            throw .invalid(key: "serve.url", value: url, allowed: "the server's base URL, http://HOST:PORT (vLLM's OpenAI server)")
        }
        return ServeSettings(
            url: url.hasSuffix("/") ? String(url.dropLast()) : url,
            name: try values.parse("serve.name", "a name without spaces or slashes") { name in
                name.isEmpty || name.contains(where: { $0.isWhitespace || $0 == "/" }) ? nil : name
            },
            directory: try values.string("serve.dir").map(RunDirectory.absolute) ?? "\(stateDirectory)/serve",
            keep: try values.parse("serve.keep", "a whole number >= 1") { Int($0).flatMap { $0 >= 1 ? $0 : nil } },
            trigger: try values.choice("serve.publish", Trigger.self),
            tokenFile: try values.string("serve.token_file").map(RunDirectory.absolute),
            maxRank: try values.parse("serve.max_rank", "a whole number >= 0 (0: no cap)") { Int($0).flatMap { $0 >= 0 ? $0 : nil } },
            timeout: try values.seconds("serve.timeout"),
            checkEvery: try values.parse("serve.check_every", "seconds >= 0 (0: only at each new adapter)") { Double($0).flatMap { $0 >= 0 && $0 < 86_400 * 365 ? $0 : nil } })
    }
}
