import ArgumentParser
import Ingest
import Weigh

extension WeightingKind: ExpressibleByArgument {}
extension Metric: ExpressibleByArgument {}

/// The merge settings as command-line options.
struct SettingsOptions: ParsableArguments {
    @Option(help: "How many of the latest checkpoints to merge.")
    var window: Int = 5

    @Option(help: "loss (lower loss weighs more), step (later weighs more) or uniform.")
    var weighting: WeightingKind = .loss

    @Option(help: "The penalty factor p >= 0; 0 means uniform.")
    var penalty: Double = 1.0

    @Option(help: "The loss that 'loss' weighting reads: train_loss or eval_loss.")
    var metric: Metric = .trainLoss

    @Option(help: "Average the last K logged losses up to each checkpoint's step.")
    var smoothing: Int = 1

    func validate() throws {
        guard window >= 1 else { throw ValidationError("--window must be at least 1, got \(window).") }
        guard penalty.isFinite, penalty >= 0 else { throw ValidationError("--penalty must be a finite number >= 0, got \(penalty).") }
        guard smoothing >= 1 else { throw ValidationError("--smoothing must be at least 1, got \(smoothing).") }
        guard metric != .step else { throw ValidationError("--metric takes train_loss or eval_loss; use --weighting step for steps.") }
    }

    func merged() throws -> MergeSettings {
        MergeSettings(window: window, weighting: weighting, penalty: penalty, metric: metric, smoothing: smoothing)
    }
}
