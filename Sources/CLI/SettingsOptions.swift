import ArgumentParser
import Daemon
import Ingest
import Settings
import Weigh

/// The merge settings as command-line options, shared by `mwad merge` and `mwad run`
/// so that the same mistake gets the same answer (and exit status 64) in both. The
/// settings every merge has are options here; each parameter a weighting or method
/// declares is a flag by its name (`--half-life 40`), read from the catalog, so a
/// new weighting's parameter is a flag with no edit here. Numbers are taken as
/// values even when they start with `-`, so that `--window -3` is refused for its
/// range, not mistaken for a missing value.
struct SettingsOptions: ParsableArguments {
    @Option(help: ArgumentHelp(SettingsOptions.help("method"), valueName: SettingsOptions.valueName("method")))
    var method: String?

    @Option(help: ArgumentHelp(SettingsOptions.help("weighting"), valueName: SettingsOptions.valueName("weighting")))
    var weighting: String?

    @Option(parsing: .unconditional, help: ArgumentHelp(SettingsOptions.help("window"), valueName: SettingsOptions.valueName("window")))
    var window: String?

    @Option(name: .customLong("window-steps"), parsing: .unconditional, help: ArgumentHelp(SettingsOptions.help("window_steps"), valueName: SettingsOptions.valueName("window_steps")))
    var windowSteps: String?

    @Option(parsing: .unconditional, help: ArgumentHelp(SettingsOptions.help("stride"), valueName: SettingsOptions.valueName("stride")))
    var stride: String?

    @Option(help: ArgumentHelp(SettingsOptions.help("metric"), valueName: SettingsOptions.valueName("metric")))
    var metric: String?

    @Option(parsing: .unconditional, help: ArgumentHelp(SettingsOptions.help("smoothing"), valueName: SettingsOptions.valueName("smoothing")))
    var smoothing: String?

    @Option(name: .customLong("max-rank"), parsing: .unconditional, help: ArgumentHelp(SettingsOptions.help("max_rank"), valueName: SettingsOptions.valueName("max_rank")))
    var maxRank: String?

    /// Each parameter flag (`--half-life 40`) reaches the parser as `--param
    /// half_life=40` (see ``rewrite(_:)``): the catalog, not this file, knows the names.
    @Option(name: .customLong("param"), parsing: .unconditionalSingleValue,
            help: ArgumentHelp(SettingsOptions.parameterHelp, valueName: "name=value"))
    var parameterFlags: [String] = []

    /// What a fixed setting's value is called (`N|all`), from its declaration.
    static func valueName(_ name: String) -> String {
        SettingsText.fixed().first { $0.name == name }!.valueName
    }

    /// The help of a setting every merge has, with its config key and default.
    static func help(_ name: String) -> String {
        let fixed = SettingsText.fixed().first { $0.name == name }!
        let text = SettingsText.defaultText(name)
        return fixed.help + " (" + (text.isEmpty ? "" : "default \(text); ") + "merge.\(name))"
    }

    /// Every parameter flag, from the catalog: name, owners, what it takes, default.
    static var parameterHelp: String {
        "A parameter of the weighting or method in use, also written as its own flag: " + Catalog.shared.parameters.map { parameter, owners in
            "\(parameter.flag) (\(owners.joined(separator: ", "))): \(parameter.help) Default \(parameter.defaultValue); merge.\(parameter.name)."
        }.joined(separator: " ")
    }

    /// The parameter flags given, by parameter name; a name the catalog lacks is an error.
    func parameters() throws -> [String: String] {
        var values: [String: String] = [:]
        for entry in parameterFlags {
            let parts = entry.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 2, let parameter = Catalog.shared.parameter(parts[0]) else {
                throw ValidationError("--param takes NAME=VALUE with a parameter NAME among "
                    + Catalog.shared.parameters.map(\.parameter.name).joined(separator: ", ") + "; got '\(entry)'.")
            }
            guard !parts[1].isEmpty else { throw ValidationError("Missing value for '\(parameter.flag)'.") }
            values[parameter.name] = parts[1]
        }
        return values
    }

    /// `--half-life 40` and `--half-life=40` as `--param half_life=40`, for every
    /// parameter the catalog declares, before the arguments are parsed (a flag the
    /// parser was not told of would otherwise take a positional argument's place).
    static func rewrite(_ arguments: [String]) -> [String] {
        ConfigFlags.rewrite(arguments, flags: Dictionary(Catalog.shared.parameters.map { ($0.parameter.flag, $0.parameter.name) }) { first, _ in first },
                            as: "--param")
    }

    /// Every setting given, by name (the fixed ones and the parameters).
    func given() throws -> [String: String] {
        var texts = try parameters()
        texts["method"] = method
        texts["weighting"] = weighting
        texts["window"] = window
        texts["window_steps"] = windowSteps
        texts["stride"] = stride
        texts["metric"] = metric
        texts["smoothing"] = smoothing
        texts["max_rank"] = maxRank
        return texts
    }

    /// Each value alone (kind, range); `mwad merge` checks them together in ``merged(window:)``,
    /// `mwad run` once they are over the configuration they override.
    func validate() throws {
        for (name, value) in try given() {
            do { try SettingsText.check(name, value) } catch { throw Self.flagError(error) }
        }
    }

    private static func flagError(_ error: WeighError) -> ValidationError {
        guard case .invalidSetting(let name, let value, let allowed) = error else { return ValidationError("\(error)") }
        let flag = "--" + name.replacingOccurrences(of: "_", with: "-")
        return ValidationError("\(flag) must be \(allowed), got \(value).")
    }

    /// The settings given, over the defaults; `window` replaces the default window.
    func merged(window defaultWindow: Int? = nil) throws -> MergeSettings {
        var base = MergeSettings()
        if let defaultWindow { base.window.count = defaultWindow }
        let texts = try given()
        do { return try SettingsText.read({ texts[$0] }, over: base) } catch { throw Self.flagError(error) }
    }

    /// The options given, as the configuration keys they override in `mwad run`.
    var configFlags: [String: String] {
        ((try? given()) ?? [:]).reduce(into: [:]) { $0["merge.\($1.key)"] = $1.value }
    }
}
