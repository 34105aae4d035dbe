import Ledger
import Settings
import Weigh

/// The daemon's window over its checkpoints: the members of the merge (by
/// ``MergeSettings/window``), and the checkpoints it keeps retained copies of — from
/// the oldest that the merge or any evaluation candidate takes, so that a candidate
/// with a longer window or a stride finds its members.
///
/// `window: all` is a running average: its members are every ingested checkpoint and
/// those evicted ones the published merge holds (folded into the saved sum, their
/// copies deleted); only the newest is kept, and what candidates take.
struct DaemonWindow {
    /// The merge's members, oldest first.
    var members: [CheckpointRecord]
    /// Every checkpoint kept, oldest first.
    var retained: [CheckpointRecord]

    init(snapshot: LedgerSnapshot, config: DaemonConfig) {
        let ingested = snapshot.ingested
        let steps = ingested.map(\.step)
        if config.merge.window.count == nil {
            let folded = Set(snapshot.memberIDs)
            members = snapshot.checkpoints.filter { $0.status == .ingested || ($0.status == .evicted && folded.contains($0.id!)) }
                .sorted { $0.step < $1.step }
        } else {
            members = config.merge.window.select(steps).map { ingested[$0] }
        }
        let candidates = config.evaluation?.candidates ?? []
        let spans = (config.merge.window.count == nil ? [] : [config.merge]) + candidates
        let oldest = (spans.compactMap { $0.window.select(steps).first } + (ingested.isEmpty ? [] : [ingested.count - 1])).min()
        retained = oldest.map { Array(ingested[$0...]) } ?? []
    }

    /// How many checkpoints the longest window takes at most (to refill after a
    /// restart with a larger window): count × stride; a running average refills none
    /// (what it evicted is in its sum).
    static func wanted(_ config: DaemonConfig) -> Int {
        ([config.merge] + (config.evaluation?.candidates ?? [])).map { settings in
            settings.window.count.map { $0 * settings.window.stride } ?? 0
        }.max() ?? 1
    }
}
