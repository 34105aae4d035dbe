import SafeTensors

/// A method's incremental form: the window's merge kept as a saved running state, which
/// the checkpoints entering and leaving the window update, instead of every member being
/// read again. A method supplies one in its description (``MethodDescription/incremental``);
/// the daemon's running sum (its update, the running average of `window: all`, and the
/// policy choosing between it and a full merge) works through it alone, and a method
/// without one is merged afresh each time.
///
/// The state is that of a weighted running sum, S = Σ g_i·X_i with g_i = exp(score_i −
/// reference) (``WindowSum/State``): the member's key and score, the total, the
/// reference, how many updates old it is and the settings' fingerprint.
public protocol IncrementalMerge: Sendable {
    /// The state saved at `path`, checked against its checksum; nil where it is
    /// absent, unreadable or torn (it is then recomputed from the window).
    func saved(at path: String) -> WindowSum.State?

    /// Writes the merge to `output` and the new state to `statePath` (over what is
    /// there, in place): `previous` plus `adding` minus `removing`, or `adding` alone
    /// (an exact recomputation) where `previous` is nil; `rebase` moves the reference.
    func write(previous: WindowSum.State?, adding: [WindowSum.Member], removing: [WindowSum.Member], dtypes: SafeTensorsFile,
               output: MergeOutput, statePath: String, fingerprint: String, rebase: Double?) throws(MergeError)

    /// The file beside the state at `statePath` that tells a whole one from a torn one.
    func checkPath(_ statePath: String) -> String
}

/// The linear method's incremental form: Σ w_i·θ_i over every tensor (``WindowSum``).
public struct LinearWindowSum: IncrementalMerge {
    public init() {}

    public func saved(at path: String) -> WindowSum.State? { WindowSum.State(path: path) }

    public func write(previous: WindowSum.State?, adding: [WindowSum.Member], removing: [WindowSum.Member], dtypes: SafeTensorsFile,
                      output: MergeOutput, statePath: String, fingerprint: String, rebase: Double?) throws(MergeError) {
        try WindowSum.write(previous: previous, adding: adding, removing: removing, dtypes: dtypes, output: output,
                            statePath: statePath, fingerprint: fingerprint, rebase: rebase)
    }

    public func checkPath(_ statePath: String) -> String { WindowSum.checkPath(statePath) }
}
