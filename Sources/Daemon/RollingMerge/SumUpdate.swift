import Foundation
import HostFileSystem
import Ingest
import Ledger
import Merge
import Publish
import SafeTensors
import Weigh

/// One step of the running window sum: which members enter and leave, and whether the
/// saved sum can be updated or must be recomputed exactly.
///
/// The saved sum is trusted only when it is exactly the last published window (its
/// members' keys), with the same weighting, fewer than `merge.recompute_every` updates
/// old, and every leaving member still readable; otherwise (first merge, a crash
/// between publishing and saving the sum, settings changed, a lost copy) the sum is
/// recomputed from the window. It is saved by rename after the merge is published.
struct SumUpdate {
    let path: String
    let temporary: String
    let previous: WindowSum.State?
    let adding: [WindowSum.Member]
    let removing: [WindowSum.Member]
    let dtypes: SafeTensorsFile
    let fingerprint: String
    /// How many checkpoints the window holds.
    let size: Int

    init(config: DaemonConfig, window: [CheckpointRecord], checkpoints: [Checkpoint], snapshot: LedgerSnapshot) throws {
        path = "\(config.stateDirectory)/window-sum.safetensors"
        temporary = "\(path).tmp-\(getpid())"
        for file in [temporary, WindowSum.checkPath(temporary)] { try? FileManager.default.removeItem(atPath: file) }
        let method = try config.merge.weightingMethod()
        fingerprint = config.merge.fingerprint
        let members = try zip(window, checkpoints).map { row, checkpoint in
            WindowSum.Member(key: Self.key(row), file: checkpoint.adapter,
                             score: try method.logScore(of: Candidate(name: checkpoint.name, step: checkpoint.step,
                                                                      metricValue: checkpoint.value(of: method.metric, smoothing: config.merge.smoothing))))
        }
        dtypes = checkpoints.last!.adapter
        size = members.count
        let saved = WindowSum.State(path: path)
        let lastMembers = Self.lastMergeKeys(snapshot)
        if let saved, saved.fingerprint == fingerprint, saved.updates < config.recomputeEvery,
           Set(saved.members.keys) == lastMembers,
           let leaving = Self.leaving(saved, window: Set(members.map(\.key)), snapshot: snapshot),
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

    /// Itself when `policy` chooses the running sum for this update; else nil, and the
    /// saved sum is removed (it will not follow the window).
    func chosen(_ policy: RunningSumPolicy) -> SumUpdate? {
        let adapter = Int64(dtypes.fileBytes.count)
        let sum = dtypes.tensors.reduce(Int64(0)) { $0 + Int64($1.elementCount) * 8 }
        if policy.useSum(window: size, adding: adding.count,
                         removing: removing.count, adapter: adapter, sum: sum, previous: previous != nil) {
            return self
        }
        for file in [path, WindowSum.checkPath(path)] { try? FileManager.default.removeItem(atPath: file) }
        return nil
    }

    /// Writes the merge to `output` and the new sum beside the saved one.
    func write(_ output: MergeOutput) throws(PublishError) {
        do {
            try WindowSum.write(previous: previous, adding: adding, removing: removing, dtypes: dtypes,
                                output: output, statePath: temporary, fingerprint: fingerprint)
        } catch {
            throw .merge(error)
        }
    }

    /// Makes the new sum the saved one: the sum, then its checksum (a crash between
    /// the two renames leaves a pair that does not match, and the sum is recomputed).
    /// Nothing is fsynced: after a power cut the checksum tells a sum that did not
    /// reach the disk whole.
    func commit() throws {
        for (from, to) in [(temporary, path), (WindowSum.checkPath(temporary), WindowSum.checkPath(path))] where rename(from, to) != 0 {
            throw PublishError.io(path: to, operation: "saving the running window sum", reason: Posix.errnoText())
        }
    }

    func discard() {
        for file in [temporary, WindowSum.checkPath(temporary)] { try? FileManager.default.removeItem(atPath: file) }
    }

    /// Removes new sums a crash left unsaved.
    static func removeLeftovers(stateDirectory: String) {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: stateDirectory)) ?? []
        where name.hasPrefix("window-sum.safetensors.tmp-") {
            try? FileManager.default.removeItem(atPath: "\(stateDirectory)/\(name)")
        }
    }

    static func key(_ row: CheckpointRecord) -> String { "\(row.id!):\(row.adapterSHA256 ?? "")" }

    private static func lastMergeKeys(_ snapshot: LedgerSnapshot) -> Set<String> {
        Set(snapshot.memberIDs.compactMap { snapshot.checkpoint(id: $0).map(key) })
    }

    /// The saved members not in the window, opened from their retained copies (nil if
    /// one cannot be read: the sum is then recomputed).
    private static func leaving(_ saved: WindowSum.State, window: Set<String>, snapshot: LedgerSnapshot) -> [WindowSum.Member]? {
        var members: [WindowSum.Member] = []
        for (key, score) in saved.members where !window.contains(key) {
            guard let row = snapshot.checkpoints.first(where: { Self.key($0) == key }), let retained = row.retainedPath,
                  let file = try? SafeTensorsFile(path: "\(retained)/\(Checkpoint.adapterFile)") else { return nil }
            members.append(WindowSum.Member(key: key, file: file, score: score))
        }
        return members
    }
}
