import Foundation
import Ledger

/// Checkpoint folders mwad has seen (in an inotify event or a scan) but not yet
/// recorded, and how far it got with each. A folder deleted before it was recorded
/// becomes a `missed` row with this story as its reason: no checkpoint the daemon saw
/// leaves no trace.
struct Sightings {
    struct Sighting: Equatable {
        var step: Int64
        var path: String
        var firstSeen: Date
        /// What mwad was waiting for, or what went wrong, at its last look.
        var state: String?
    }

    private(set) var pending: [String: Sighting] = [:]

    /// Notes that the folder `path` of `step` was seen at `now` (the first time counts;
    /// the step is the latest look's: a layout decided meanwhile may read it anew).
    mutating func saw(path: String, step: Int64, at now: Date) {
        let name = (path as NSString).lastPathComponent
        if pending[name] == nil { pending[name] = Sighting(step: step, path: path, firstSeen: now) }
        pending[name]?.step = step
    }

    /// Notes what mwad found at its last look into the folder.
    mutating func note(_ name: String, _ state: String) {
        pending[name]?.state = state
    }

    /// The folder was recorded (ingested or rejected) or is known already.
    mutating func settle(_ name: String) {
        pending[name] = nil
    }

    /// Removes and returns, as `missed` rows, the sighted folders that no longer exist.
    mutating func takeVanished(now: Date, exists: (String) -> Bool) -> [CheckpointRecord] {
        let gone = pending.filter { !exists($0.value.path) }
        for name in gone.keys { pending[name] = nil }
        return gone.values.sorted { $0.step < $1.step }.map { sighting in
            var row = CheckpointRecord(step: sighting.step, sourcePath: sighting.path, status: .missed,
                                       reason: Self.reason(sighting, now: now), discoveredAt: sighting.firstSeen)
            row.vanishedAt = now
            return row
        }
    }

    /// E.g. "/run/checkpoint-20 was deleted within 140 ms of appearing, while mwad waited: trainer_state.json
    /// was not written yet (save_total_limit rotated it away faster than mwad could copy it)".
    static func reason(_ sighting: Sighting, now: Date) -> String {
        let milliseconds = max(0, Int((now.timeIntervalSince(sighting.firstSeen) * 1000).rounded()))
        let how = sighting.state.map { "while mwad waited: \($0)" } ?? "before mwad could look into it"
        return "\(sighting.path) was deleted within \(milliseconds) ms of appearing, \(how) (save_total_limit rotated it away faster than mwad could copy it)"
    }
}
