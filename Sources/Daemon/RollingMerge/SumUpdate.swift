import CLinuxSupport
import Foundation
import HostFileSystem
import Ingest
import Ledger
import Merge
import Publish
import SafeTensors
import Settings
import Weigh

/// One step of the running window sum: which members enter and leave, and whether the
/// saved sum can be updated or must be recomputed exactly.
///
/// The saved sum is trusted only when it is exactly the last published window (its
/// members' keys), with the same weighting, fewer than `merge.recompute_every` updates
/// old, and every leaving member still readable; otherwise (first merge, a crash
/// between publishing and saving the sum, settings changed, a lost copy) the sum is
/// recomputed from the window. The new sum is written over the sum before the last
/// (`.spare`, kept as scratch so that its pages are reused), and swapped in after the
/// merge is published.
struct SumUpdate {
    /// The method's incremental form, which reads, writes and verifies the state.
    let incremental: any IncrementalMerge
    let path: String
    let spare: String
    let previous: WindowSum.State?
    let adding: [WindowSum.Member]
    let removing: [WindowSum.Member]
    let dtypes: SafeTensorsFile
    let fingerprint: String
    /// How many checkpoints the window holds.
    let size: Int
    /// A new reference for the saved scores (``WindowSum/write(previous:adding:removing:dtypes:output:statePath:fingerprint:rebase:)``).
    var rebase: Double?

    /// The update of a running average (`window: all`): `adding` onto `previous`
    /// (nil: an exact sum of `adding`), nothing leaving.
    init(stateDirectory: String, incremental: any IncrementalMerge, previous: WindowSum.State?, adding: [WindowSum.Member],
         dtypes: SafeTensorsFile, fingerprint: String, size: Int, rebase: Double?) {
        self.incremental = incremental
        path = Self.statePath(stateDirectory)
        spare = "\(path).spare"
        try? FileManager.default.removeItem(atPath: incremental.checkPath(spare))
        self.previous = previous
        self.adding = adding
        removing = []
        self.dtypes = dtypes
        self.fingerprint = fingerprint
        self.size = size
        self.rebase = rebase
    }

    /// Nil when the weighting's weights do not each depend on one checkpoint (no
    /// running sum can follow them).
    init?(config: DaemonConfig, incremental: any IncrementalMerge, weighting: (any WeightingMethod)?, layout: any TrainerLayout,
          window: [CheckpointRecord], checkpoints: [Checkpoint], snapshot: LedgerSnapshot) throws {
        self.incremental = incremental
        path = Self.statePath(config.stateDirectory)
        spare = "\(path).spare"
        try? FileManager.default.removeItem(atPath: incremental.checkPath(spare))  // scratch is never trusted
        guard let method = try (weighting ?? config.merge.weightingMethod()) as? any SeparableWeighting, method.isSeparable else { return nil }
        fingerprint = config.merge.effective.fingerprint
        let members = try zip(window, checkpoints).map { row, checkpoint in
            WindowSum.Member(key: Self.key(row), file: checkpoint.adapter,
                             score: try method.logScore(of: Candidate(name: checkpoint.name, step: checkpoint.step,
                                                                      metricValue: checkpoint.value(of: method.metric, smoothing: config.merge.smoothing))))
        }
        dtypes = checkpoints.last!.adapter
        size = members.count
        let saved = incremental.saved(at: path)
        let lastMembers = Self.lastMergeKeys(snapshot)
        if let saved, saved.fingerprint == fingerprint, saved.updates < config.recomputeEvery,
           Set(saved.members.keys) == lastMembers,
           let leaving = Self.leaving(saved, window: Set(members.map(\.key)), snapshot: snapshot, adapterFile: layout.adapterFile),
           members.allSatisfy({ abs($0.score - saved.reference) < 300 }) {
            previous = saved
            adding = members.filter { saved.members[$0.key] == nil }
            removing = leaving
        } else {
            previous = nil
            adding = members
            removing = []
        }
    }

    /// Whether `policy` takes the running sum for this update (it touches fewer bytes
    /// than a full merge).
    func pays(under policy: RunningSumPolicy) -> Bool {
        let adapter = Int64(dtypes.fileBytes.count)
        let sum = dtypes.tensors.reduce(Int64(0)) { $0 + Int64($1.elementCount) * 8 }
        return policy.useSum(window: size, adding: adding.count, removing: removing.count, adapter: adapter, sum: sum,
                             previous: previous != nil)
    }

    /// Removes the saved sum and its scratch: a full merge is made instead, and the
    /// sum would no longer follow the window.
    func removeSaved() {
        for file in [path, spare].flatMap({ [$0, incremental.checkPath($0)] }) { try? FileManager.default.removeItem(atPath: file) }
    }

    /// Writes the merge to `output` and the new sum beside the saved one.
    func write(_ output: MergeOutput) throws(PublishError) {
        do {
            try incremental.write(previous: previous, adding: adding, removing: removing, dtypes: dtypes,
                                  output: output, statePath: spare, fingerprint: fingerprint, rebase: rebase)
        } catch {
            throw .merge(error)
        }
    }

    /// Makes the new sum the saved one: swaps it with the old (which becomes the
    /// scratch for the next update), then moves its checksum in. A crash between the
    /// two leaves a sum and a checksum that do not match, and the sum is recomputed.
    /// Nothing is fsynced: after a power cut the checksum tells a sum that did not
    /// reach the disk whole.
    func commit() throws {
        let exists = FileManager.default.fileExists(atPath: path)
        if !(exists && mwad_rename_exchange(spare, path) == 0) && rename(spare, path) != 0 {
            throw PublishError.io(path: path, operation: "saving the running window sum", reason: Posix.errnoText())
        }
        guard rename(incremental.checkPath(spare), incremental.checkPath(path)) == 0 else {
            throw PublishError.io(path: path, operation: "saving the running window sum's checksum", reason: Posix.errnoText())
        }
    }

    func discard() {
        try? FileManager.default.removeItem(atPath: incremental.checkPath(spare))
    }

    /// Where the daemon keeps the saved state.
    static func statePath(_ stateDirectory: String) -> String { "\(stateDirectory)/window-sum.safetensors" }

    /// Removes what a crash left unsaved: a checksum beside the scratch sum, and the
    /// per-process new sums of earlier versions (`.tmp-PID`).
    static func removeLeftovers(stateDirectory: String) {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: stateDirectory)) ?? []
        where name.hasPrefix("window-sum.safetensors.tmp-") || name == "window-sum.safetensors.spare.check" {
            try? FileManager.default.removeItem(atPath: "\(stateDirectory)/\(name)")
        }
    }

    static func key(_ row: CheckpointRecord) -> String { "\(row.id!):\(row.adapterSHA256 ?? "")" }

    static func lastMergeKeys(_ snapshot: LedgerSnapshot) -> Set<String> {
        Set(snapshot.memberIDs.compactMap { snapshot.checkpoint(id: $0).map(key) })
    }

    /// The saved members not in the window, opened from their retained copies (nil if
    /// one cannot be read: the sum is then recomputed).
    private static func leaving(_ saved: WindowSum.State, window: Set<String>, snapshot: LedgerSnapshot, adapterFile: String) -> [WindowSum.Member]? {
        var members: [WindowSum.Member] = []
        for (key, score) in saved.members where !window.contains(key) {
            guard let row = snapshot.checkpoints.first(where: { Self.key($0) == key }), let retained = row.retainedPath,
                  let file = try? SafeTensorsFile(path: "\(retained)/\(adapterFile)") else { return nil }
            members.append(WindowSum.Member(key: key, file: file, score: score))
        }
        return members
    }
}
