import ArgumentParser
import Ingest
import Weigh

extension WeightingKind: ExpressibleByArgument {}

extension Metric: ExpressibleByArgument {
    /// Only the losses: step weighting reads steps, so `step` is never a `--metric`.
    public init?(argument: String) {
        guard let metric = Metric(rawValue: argument), metric != .step else { return nil }
        self = metric
    }

    public static var allValueStrings: [String] { [Metric.trainLoss.rawValue, Metric.evalLoss.rawValue] }
}

/// The merge settings as command-line options, shared by `mwad merge` and `mwad run`
/// so that the same mistake gets the same answer (and exit status 64) in both.
/// Numbers are taken as values even when they start with `-`, so that `--window -3`
/// is refused for its range, not mistaken for a missing value.
struct SettingsOptions: ParsableArguments {
    @Option(parsing: .unconditional, help: "How many of the latest checkpoints to merge (default 5; merge.window).")
    var window: Int?

    @Option(help: "loss (lower loss weighs more), step (later weighs more) or uniform (default loss; merge.weighting).")
    var weighting: WeightingKind?

    @Option(parsing: .unconditional, help: "The penalty factor p >= 0; 0 means uniform (default 1; merge.penalty).")
    var penalty: Double?

    @Option(help: "The loss that 'loss' weighting reads (default train_loss; merge.metric).")
    var metric: Metric?

    @Option(parsing: .unconditional, help: "Average the last K logged losses up to each checkpoint's step (default 1; merge.smoothing).")
    var smoothing: Int?

    func validate() throws {
        if let window, window < 1 { throw ValidationError("--window must be a whole number >= 1, got \(window).") }
        if let penalty, !(penalty.isFinite && penalty >= 0) {
            throw ValidationError("--penalty must be a finite number >= 0, got \(MergeSettings.number(penalty)).")
        }
        if let smoothing, smoothing < 1 { throw ValidationError("--smoothing must be a whole number >= 1, got \(smoothing).") }
    }

    /// The settings given, over the defaults; `window` replaces the default window.
    func merged(window defaultWindow: Int? = nil) -> MergeSettings {
        let defaults = MergeSettings()
        return MergeSettings(window: window ?? defaultWindow ?? defaults.window, weighting: weighting ?? defaults.weighting,
                             penalty: penalty ?? defaults.penalty, metric: metric ?? defaults.metric,
                             smoothing: smoothing ?? defaults.smoothing)
    }

    /// The options given, as the configuration keys they override in `mwad run`.
    var configFlags: [String: String] {
        var flags: [String: String] = [:]
        flags["merge.window"] = window.map { "\($0)" }
        flags["merge.weighting"] = weighting?.rawValue
        flags["merge.penalty"] = penalty.map { "\($0)" }
        flags["merge.metric"] = metric?.rawValue
        flags["merge.smoothing"] = smoothing.map { "\($0)" }
        return flags
    }
}
