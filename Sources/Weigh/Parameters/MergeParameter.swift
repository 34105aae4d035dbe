import Foundation

/// One parameter a weighting or a merge method declares: its name, what it accepts,
/// its default and one line of help. The config key (`merge.NAME`), the command-line
/// flag (`--NAME` with dashes), `--help`, validation and its message, candidates,
/// manifests and status all read this one declaration.
public struct MergeParameter: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// A whole number in the range.
        case integer(ClosedRange<Int>)
        /// A finite number in the range.
        case number(ClosedRange<Double>)
        /// One of these words.
        case choice([String])
    }

    /// snake_case, as in config keys and JSON: `half_life`.
    public let name: String
    public let kind: Kind
    public let defaultValue: ParameterValue
    public let help: String
    /// What the value is called in synopses (`STEPS` in `--half-life STEPS`); a
    /// choice's words are listed instead.
    public let valueName: String

    public init(name: String, kind: Kind, defaultValue: ParameterValue, help: String, valueName: String? = nil) {
        self.name = name
        self.kind = kind
        self.defaultValue = defaultValue
        self.help = help
        self.valueName = valueName ?? name.uppercased()
    }

    /// `[--half-life STEPS]`, `[--shape linear|cosine|inverse-sqrt]`: the flag in a synopsis.
    public var synopsis: String {
        if case .choice(let words) = kind { return "[\(flag) \(words.joined(separator: "|"))]" }
        return "[\(flag) \(valueName)]"
    }

    /// The command-line flag: `--half-life`.
    public var flag: String { "--" + name.replacingOccurrences(of: "_", with: "-") }

    /// The config key: `merge.half_life`.
    public var key: String { "merge.\(name)" }

    /// What the parameter accepts, for error messages: `a whole number from 1 to 1000`.
    public var allowed: String {
        switch kind {
        case .integer(let range):
            range.upperBound == Int.max ? "a whole number >= \(range.lowerBound)"
                : "a whole number from \(range.lowerBound) to \(range.upperBound)"
        case .number(let range):
            range.upperBound == .greatestFiniteMagnitude ? "a finite number >= \(Self.format(range.lowerBound))"
                : "a number from \(Self.format(range.lowerBound)) to \(Self.format(range.upperBound))"
        case .choice(let words): "one of " + words.joined(separator: ", ")
        }
    }

    /// The value `text` stands for, or nil when it is not allowed.
    public func parse(_ text: String) -> ParameterValue? {
        let text = text.trimmingCharacters(in: .whitespaces)
        switch kind {
        case .integer:
            guard let value = Int(text) ?? Double(text).flatMap({ $0 == $0.rounded() && abs($0) < 1e15 ? Int($0) : nil })
            else { return nil }
            let parsed = ParameterValue.number(Double(value))
            return accepts(parsed) ? parsed : nil
        case .number:
            guard let value = Double(text) else { return nil }
            return accepts(.number(value)) ? .number(value) : nil
        case .choice:
            return accepts(.text(text)) ? .text(text) : nil
        }
    }

    /// Whether `value` is of this parameter's kind and within its range.
    public func accepts(_ value: ParameterValue) -> Bool {
        switch (kind, value) {
        case (.integer(let range), .number(let n)): n == n.rounded() && n >= Double(range.lowerBound) && n <= Double(range.upperBound)
        case (.number(let range), .number(let n)): n.isFinite && range.contains(n)
        case (.choice(let words), .text(let word)): words.contains(word)
        default: false
        }
    }

    /// A number the way mwad prints settings everywhere: `1`, `0.5`, `20`.
    public static func format(_ value: Double) -> String {
        ParameterValue.format(value)
    }
}

