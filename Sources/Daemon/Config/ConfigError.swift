import Weigh

/// A configuration that cannot be used; the daemon refuses to start with it.
public enum ConfigError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A key's value is not allowed (key, value given, what is allowed).
    case invalid(key: String, value: String, allowed: String)
    /// A required key has no value anywhere.
    case missing(key: String, hint: String)
    /// The file has a key mwad does not know (typo?).
    case unknownKey(file: String, key: String)
    /// The file cannot be read or parsed.
    case file(path: String, reason: String)
    /// Merges cannot be published at the output (what to change).
    case output(String)

    public var description: String {
        switch self {
        case .invalid(let key, let value, let allowed): "config key '\(key)': '\(value)' is not allowed; expected \(allowed)"
        case .missing(let key, let hint): "config key '\(key)' is required (\(hint))"
        case .unknownKey(let file, let key): "\(file): unknown config key '\(key)'"
        case .file(let path, let reason): "\(path): \(reason)"
        case .output(let problem): problem
        }
    }
}


extension ConfigError {
    /// A settings error as a config error naming the key (`merge.half_life`).
    init(_ error: WeighError, prefix: String) {
        switch error {
        case .invalidSetting(let name, let value, let allowed): self = .invalid(key: prefix + name, value: value, allowed: allowed)
        default: self = .invalid(key: prefix.isEmpty ? "merge" : String(prefix.dropLast()), value: "", allowed: error.description)
        }
    }
}
