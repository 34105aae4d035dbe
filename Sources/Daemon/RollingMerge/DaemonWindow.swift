import Ledger
import Settings
import Weigh

/// The daemon's window over its ingested checkpoints: the members of the merge (by
/// ``MergeSettings/window``), and the checkpoints it keeps retained copies of — from
/// the oldest that the merge or any evaluation candidate takes, so that a candidate
/// with a longer window or a stride finds its members.
struct DaemonWindow {
    /// The merge's members, oldest first.
    var members: [CheckpointRecord]
    /// Every checkpoint kept, oldest first (members included).
    var retained: [CheckpointRecord]

    init(ingested: [CheckpointRecord], config: DaemonConfig) {
        let steps = ingested.map(\.step)
        members = config.merge.window.select(steps).map { ingested[$0] }
        let all = [config.merge] + (config.evaluation?.candidates ?? [])
        let oldest = all.compactMap { $0.window.select(steps).first }.min()
        retained = oldest.map { Array(ingested[$0...]) } ?? []
    }

    /// How many checkpoints the longest window takes at most (to refill after a
    /// restart with a larger window): count × stride, or all.
    static func wanted(_ config: DaemonConfig) -> Int {
        ([config.merge] + (config.evaluation?.candidates ?? [])).map { settings in
            settings.window.count.map { $0 * settings.window.stride } ?? Int.max
        }.max() ?? 1
    }
}
