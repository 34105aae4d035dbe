import Foundation
import Ledger
import MWADTestKit

/// A run directory, a state directory and `mwad run` watching them.
final class LiveRun {
    let dir = TemporaryDirectory("mwad-live")
    var run: String { dir.file("run") }
    var output: String { dir.file("merged") }
    var ledger: String { dir.file("state/ledger.sqlite") }
    var daemon: DaemonProcess?

    /// The settings the daemon tests were written for: a parameter average (which
    /// merges their synthetic adapters, whose tensors are no LoRA pairs), weighted by
    /// loss, over 5 checkpoints. Flags and a test's own environment override them.
    static let linearSettings = ["MWAD_MERGE_METHOD": "linear", "MWAD_MERGE_WEIGHTING": "loss", "MWAD_MERGE_WINDOW": "5"]

    init(createRun: Bool = true) throws {
        if createRun { try FileManager.default.createDirectory(atPath: run, withIntermediateDirectories: true) }
    }

    /// Starts the daemon and waits until it is ready.
    @discardableResult
    func start(_ extra: [String] = [], environment: [String: String] = [:], unprivileged: Bool = false) throws -> DaemonProcess {
        if unprivileged && geteuid() == 0 { try handOver(dir.path) }
        let daemon = try DaemonProcess(["--watch", run, "--out", output, "--ledger", ledger] + extra,
                                       environment: ["XDG_STATE_HOME": dir.file("state-home")].merging(Self.linearSettings) { $1 }
                                           .merging(environment) { $1 },
                                       unprivileged: unprivileged)
        self.daemon = daemon
        daemon.waitForLog("INFO ready", timeout: 60)
        return daemon
    }

    /// Gives `path` and everything in it to the unprivileged user.
    private func handOver(_ path: String) throws {
        let id = "\(DaemonProcess.unprivilegedID)"
        let result = try MWADProcess.run(["-R", "\(id):\(id)", path], executable: "/bin/chown")
        guard result.status == 0 else { throw CocoaError(.fileWriteNoPermission, userInfo: [NSLocalizedDescriptionKey: result.stderr]) }
    }

    func snapshot() -> LedgerSnapshot? {
        try? LedgerReader(path: ledger).snapshot()
    }

    /// Waits until the ledger's newest merge has `step` as its newest member.
    @discardableResult
    func waitForMerge(through step: Int64, timeout: Double = 60) -> Bool {
        DaemonProcess.waitUntil(timeout: timeout) {
            guard let snapshot = snapshot(), let last = snapshot.members.last else { return false }
            return snapshot.checkpoint(id: last.checkpointID)?.step == step
        }
    }

    /// A complete checkpoint written elsewhere, then renamed into the run directory in
    /// one step (its files existed before any watch on it could);
    /// `prepare` may change the folder before it is moved in.
    func moveIn(step: Int, prepare: (String) throws -> Void = { _ in }) throws {
        let staging = dir.file("staging")
        try FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: true)
        try TrainerWriter(runDirectory: staging).save(step: step)
        try prepare("\(staging)/checkpoint-\(step)")
        try FileManager.default.moveItem(atPath: "\(staging)/checkpoint-\(step)", toPath: "\(run)/checkpoint-\(step)")
    }
}
