import Foundation
import Ingest

/// Settings as JSON, flat, every parameter by its own name, as in config keys:
/// `{"window": 3, "weighting": "ema", "half_life": 40, "method": "delta", …}`;
/// `window` is a number or `"all"`. Rows written by any mwad version decode: a field
/// an older row lacks takes the value that version used (method linear, loss weighting).
extension MergeSettings: Codable {
    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ name: String) { stringValue = name }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public static let fixedKeys: Set<String> = ["window", "window_steps", "stride", "weighting", "metric", "smoothing", "method", "max_rank"]

    /// `halfLife` → `half_life`: a decoder converting from snake case (status JSON)
    /// hands over camel-cased keys; settings are named in snake case everywhere.
    static func snake(_ name: String) -> String {
        name.reduce(into: "") { out, character in
            if character.isUppercase { out += "_" + character.lowercased() } else { out.append(character) }
        }
    }

    public init(from decoder: any Decoder) throws {
        let raw = try decoder.container(keyedBy: Key.self)
        var values: [String: ParameterValue] = [:]
        for key in raw.allKeys where !Self.fixedKeys.contains(Self.snake(key.stringValue)) {
            if let value = try? raw.decode(ParameterValue.self, forKey: key) { values[Self.snake(key.stringValue)] = value }
        }
        let c = SnakeContainer(raw)
        if let count = (try? c.decodeIfPresent(Int.self, forKey: Key("window"))) ?? nil {
            window = WindowSpec(count: count)
        } else if let word = try c.decodeIfPresent(String.self, forKey: Key("window")), word == "all" {
            window = WindowSpec(count: nil)
        } else {
            window = WindowSpec(count: 5)
        }
        window.steps = try c.decodeIfPresent(Int64.self, forKey: Key("window_steps"))
        window.stride = try c.decodeIfPresent(Int.self, forKey: Key("stride")) ?? 1
        weighting = try c.decodeIfPresent(String.self, forKey: Key("weighting")) ?? "loss"
        metric = try c.decodeIfPresent(Metric.self, forKey: Key("metric")) ?? .trainLoss
        smoothing = try c.decodeIfPresent(Int.self, forKey: Key("smoothing")) ?? 1
        method = try c.decodeIfPresent(String.self, forKey: Key("method")) ?? "linear"
        maxRank = try c.decodeIfPresent(Int.self, forKey: Key("max_rank")) ?? 0
        parameters = ParameterValues(values)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        if let count = window.count { try c.encode(count, forKey: Key("window")) } else { try c.encode("all", forKey: Key("window")) }
        try c.encodeIfPresent(window.steps, forKey: Key("window_steps"))
        if window.stride != 1 { try c.encode(window.stride, forKey: Key("stride")) }
        try c.encode(weighting, forKey: Key("weighting"))
        try c.encode(metric, forKey: Key("metric"))
        try c.encode(smoothing, forKey: Key("smoothing"))
        try c.encode(method, forKey: Key("method"))
        if maxRank > 0 { try c.encode(maxRank, forKey: Key("max_rank")) }
        for (name, value) in parameters.values { try c.encode(value, forKey: Key(name)) }
    }
}

/// A keyed container read by snake-case names whichever way its keys are spelled.
struct SnakeContainer {
    let container: KeyedDecodingContainer<MergeSettings.Key>
    let keys: [String: MergeSettings.Key]

    init(_ container: KeyedDecodingContainer<MergeSettings.Key>) {
        self.container = container
        keys = Dictionary(container.allKeys.map { (MergeSettings.snake($0.stringValue), $0) }) { first, _ in first }
    }

    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: MergeSettings.Key) throws -> T? {
        guard let actual = keys[key.stringValue] else { return nil }
        return try container.decodeIfPresent(type, forKey: actual)
    }
}
