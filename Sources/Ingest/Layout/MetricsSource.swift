/// Where a layout that reads the run's logs finds its loss: the `metrics.*` settings.
public struct MetricsSource: Sendable, Equatable {
    /// The TensorBoard tag (or `DiskLogger` key) read as the loss (`metrics.tag`); nil
    /// for the layout's default.
    public var tag: String?
    /// The log folder (`metrics.logdir`): absolute, or relative to the run directory;
    /// nil for the layout's default (`logs`), as kohya's `--logging_dir` or
    /// ai-toolkit's `log_dir` may be anywhere.
    public var logdir: String?

    public init(tag: String? = nil, logdir: String? = nil) {
        self.tag = tag
        self.logdir = logdir
    }
}
