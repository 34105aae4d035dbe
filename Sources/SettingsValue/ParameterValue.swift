/// A parameter's value: a number or a word. Stored in settings JSON as a plain JSON
/// number or string, so that `mwa_merge.json` and `status --json` show `"half_life": 40`.
public enum ParameterValue: Sendable, Hashable, Codable, CustomStringConvertible {
    case number(Double)
    case text(String)

    public var number: Double? {
        if case .number(let value) = self { return value }
        return nil
    }

    public var text: String? {
        if case .text(let value) = self { return value }
        return nil
    }

    /// The value as mwad prints settings: `1`, `0.5`, `cosine`.
    public var description: String {
        switch self {
        case .number(let value): Self.format(value)
        case .text(let value): value
        }
    }

    /// A number as mwad prints settings: whole numbers without a fraction (`40`), others
    /// as Swift prints a Double (`0.5`). Part of the canonical form: never changed.
    public static func format(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : "\(value)"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let value = try? container.decode(Double.self) { self = .number(value) } else {
            self = .text(try container.decode(String.self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .number(let value): try container.encode(value)
        case .text(let value): try container.encode(value)
        }
    }
}

/// Parameter values by name, as a weighting or a method receives them: every
/// parameter it declares is present (a default where none was given).
public struct ParameterValues: Sendable, Hashable {
    public var values: [String: ParameterValue]

    public init(_ values: [String: ParameterValue] = [:]) { self.values = values }

    /// The number `name`; 0 where absent (a declared parameter never is).
    public func number(_ name: String) -> Double { values[name]?.number ?? 0 }

    /// The word `name`; "" where absent.
    public func text(_ name: String) -> String { values[name]?.text ?? "" }

    public subscript(name: String) -> ParameterValue? {
        get { values[name] }
        set { values[name] = newValue }
    }
}
