import Foundation
import HostFileSystem

/// Runs the configured `on_merge` command after a publish: argv as given (never a
/// shell), with `MWAD_OUTPUT`, `MWAD_STEP` and `MWAD_MERGE_ID` in its environment,
/// killed after a timeout. Its outcome is a short text for the ledger.
struct MergeHook: Sendable {
    let argv: [String]
    let timeout: Double
    let clock: DaemonClock

    func run(output: String, step: Int64, mergeID: Int64) async -> String {
        await ChildProcess.run(argv, environment: ["MWAD_OUTPUT": output, "MWAD_STEP": "\(step)", "MWAD_MERGE_ID": "\(mergeID)"],
                               timeout: timeout, clock: clock).text(timeout: timeout)
    }
}
