import Foundation

/// The parts of a PEFT `adapter_config.json` that decide what the adapter's tensors
/// mean: the LoRA scaling of each module, and the variants no exact merge may take.
/// The whole object is kept so that a method rewriting it changes only its keys.
public struct AdapterConfig: Sendable {
    public var peftType: String?
    public var r: Int
    public var loraAlpha: Double
    public var useRslora: Bool
    public var rankPattern: [String: Int]
    public var alphaPattern: [String: Double]
    public var useDora: Bool
    public var loraBias: Bool
    /// Modules whose LoRA weights are not plain matrices (`target_parameters`).
    public var targetParameters: [String]
    /// The whole object as read.
    public var object: [String: Any] { json.object }

    private let json: JSONObject

    struct JSONObject: @unchecked Sendable {  // only read after parsing
        let object: [String: Any]
    }

    /// Parses `data`; `source` names the file in errors.
    public init(data: Data, source: String) throws(MergeError) {
        guard let parsed = try? JSONSerialization.jsonObject(with: data), let object = parsed as? [String: Any] else {
            throw .adapterConfig(file: source, reason: "not a JSON object")
        }
        json = JSONObject(object: object)
        peftType = object["peft_type"] as? String
        r = (object["r"] as? NSNumber)?.intValue ?? 8
        loraAlpha = (object["lora_alpha"] as? NSNumber)?.doubleValue ?? Double(r)
        useRslora = (object["use_rslora"] as? Bool) ?? false
        rankPattern = ((object["rank_pattern"] as? [String: Any]) ?? [:]).compactMapValues { ($0 as? NSNumber)?.intValue }
        alphaPattern = ((object["alpha_pattern"] as? [String: Any]) ?? [:]).compactMapValues { ($0 as? NSNumber)?.doubleValue }
        useDora = (object["use_dora"] as? Bool) ?? false
        loraBias = (object["lora_bias"] as? Bool) ?? false
        targetParameters = (object["target_parameters"] as? [String]) ?? []
    }

    /// The LoRA scaling of `module` (its name inside the model, e.g.
    /// `model.layers.0.self_attn.q_proj`) with rank `rank` (from its tensors' shapes):
    /// alpha/r, or alpha/√r with rsLoRA, where alpha follows `alpha_pattern` as PEFT
    /// matches it (the key is the name or a dotted suffix of it; first match wins).
    public func scaling(module: String, rank: Int) -> Double {
        let alpha = Self.patternValue(alphaPattern, module) ?? loraAlpha
        return useRslora ? alpha / Double(rank).squareRoot() : alpha / Double(rank)
    }

    /// PEFT's pattern match: `(.*\.)?(KEY)$` against the module name.
    static func patternValue<V>(_ pattern: [String: V], _ module: String) -> V? {
        for key in pattern.keys.sorted() {
            if let regex = try? NSRegularExpression(pattern: "^(.*\\.)?(\(key))$"),
               regex.firstMatch(in: module, range: NSRange(module.startIndex..., in: module)) != nil {
                return pattern[key]
            }
        }
        return nil
    }

    /// The config written beside a merge with `report`'s ranks and a scaling of
    /// exactly 1 in every module (alpha = r, no rsLoRA), so that PEFT's scaling
    /// reproduces the merge: the modules of another rank go into `rank_pattern` and
    /// `alpha_pattern` by name. Every other key is this (the newest member's) config's.
    public func rewritten(_ report: MergeReport) throws(MergeError) -> Data {
        var object = self.object
        let common = report.rank ?? r
        let exceptions = report.rankPattern ?? [:]
        object["r"] = common
        object["lora_alpha"] = common
        object["use_rslora"] = false
        object["rank_pattern"] = exceptions
        object["alpha_pattern"] = exceptions
        do {
            return try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        } catch {
            throw .adapterConfig(file: "the merge's adapter_config.json", reason: "cannot be written as JSON: \(error)")
        }
    }
}
