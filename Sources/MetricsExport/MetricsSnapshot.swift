import Foundation
import Ledger
import SettingsValue
import Prometheus

/// The daemon's state as Prometheus gauges, made from one ledger snapshot (so the
/// metrics say what `mwad status` says), labelled with the watched run.
public enum MetricsSnapshot {
    /// The text exposition of `snapshot` for the daemon that is `up` (1) or stopped (0).
    public static func exposition(_ snapshot: LedgerSnapshot, up: Bool, words: any SettingsWords, now: Date = Date()) -> String {
        let registry = PrometheusCollectorRegistry()
        let run = [("run", snapshot.run?.watchPath ?? "")]
        func gauge(_ name: String, _ help: String, _ value: Double, _ labels: [(String, String)] = []) {
            // The whole name as metricName: an empty unit adds no suffix.
            registry.makeGauge(descriptor: MetricNameDescriptor(metricName: name, unitName: "", helpText: help), labels: run + labels).set(value)
        }
        gauge("mwad_up", "1 while the daemon runs, 0 once it stopped cleanly", up ? 1 : 0)
        if let daemon = snapshot.daemon {
            gauge("mwad_heartbeat_timestamp_seconds", "Time of the daemon's last heartbeat", daemon.heartbeatAt.timeIntervalSince1970)
            if let errorAt = daemon.lastErrorAt {
                gauge("mwad_last_error_timestamp_seconds", "Time of the daemon's last error", errorAt.timeIntervalSince1970)
            }
        }
        for status in CheckpointRecord.Status.allCases {
            gauge("mwad_checkpoints", "Checkpoints in the ledger by status (missed: deleted before they could be read)",
                  Double(snapshot.checkpoints.filter { $0.status == status }.count), [("status", status.rawValue)])
        }
        gauge("mwad_checkpoints_read", "Checkpoints read whole since the ledger began: in the window (ingested) or out of it since (evicted)",
              Double(snapshot.checkpoints.filter { $0.status == .ingested || $0.status == .evicted }.count), [])
        checkpointGauges(snapshot, gauge)
        mergeGauges(snapshot, gauge)
        evaluationGauges(snapshot, gauge, words: words)
        if let serving = snapshot.serving {
            let labels = [("name", serving.name)]
            if let step = serving.step { gauge("mwad_serving_step", "The training step of the adapter the serving engine serves", Double(step), labels) }
            if let loaded = serving.loadedAt {
                gauge("mwad_serving_loaded_timestamp_seconds", "When the serving engine loaded it (Unix time)", loaded.timeIntervalSince1970, labels)
            }
            gauge("mwad_serving_failing", "1 while the latest attempt to load into the serving engine failed", serving.lastFailure == nil ? 0 : 1, labels)
        }
        return registry.emitToString()
    }

    private typealias Gauge = (String, String, Double, [(String, String)]) -> Void

    private static func checkpointGauges(_ snapshot: LedgerSnapshot, _ gauge: Gauge) {
        guard let newest = snapshot.checkpoints.filter({ $0.status == .ingested || $0.status == .evicted }).max(by: { $0.step < $1.step })
        else { return }
        gauge("mwad_last_step", "Step of the newest ingested checkpoint", Double(newest.step), [])
        gauge("mwad_last_checkpoint_timestamp_seconds", "When the newest checkpoint was ingested",
              (newest.ingestedAt ?? newest.discoveredAt).timeIntervalSince1970, [])
        if let loss = newest.trainLoss { gauge("mwad_train_loss", "train_loss of the newest checkpoint", loss, []) }
        if let loss = newest.evalLoss { gauge("mwad_eval_loss", "eval_loss of the newest checkpoint", loss, []) }
    }

    private static func mergeGauges(_ snapshot: LedgerSnapshot, _ gauge: Gauge) {
        guard let merge = snapshot.merge else { return }
        gauge("mwad_last_merge_timestamp_seconds", "When the published merge was made", merge.createdAt.timeIntervalSince1970, [])
        gauge("mwad_last_merge_duration_seconds", "How long the published merge took", merge.durationSeconds, [])
        gauge("mwad_merge_members", "Checkpoints in the published merge", Double(snapshot.members.count), [])
        gauge("mwad_merge_window", "The window the published merge was made with", Double(merge.settings.window.count ?? snapshot.members.count), [])
        for member in snapshot.members {
            let step = snapshot.checkpoint(id: member.checkpointID)?.step ?? -1
            gauge("mwad_merge_weight", "Weight of each member of the published merge, by step", member.weight, [("step", "\(step)")])
        }
    }

    /// The latest evaluated window's scores, and the best adapter's.
    private static func evaluationGauges(_ snapshot: LedgerSnapshot, _ gauge: Gauge, words: any SettingsWords) {
        guard let last = snapshot.evaluations.last else { return }
        for evaluation in snapshot.evaluations where evaluation.mergeID == last.mergeID {
            guard let value = evaluation.value else { continue }
            let name = evaluation.target == .candidate ? (evaluation.settings.map(words.brief) ?? "?") : evaluation.target.rawValue
            gauge("mwad_eval_score", "The evaluator's score of each adapter of the latest evaluated window", value,
                  [("target", evaluation.target.rawValue), ("adapter", name), ("metric", evaluation.metric)])
        }
        if let best = snapshot.best, let record = snapshot.evaluations.first(where: { $0.id == best.evaluationID }), let value = record.value {
            gauge("mwad_best_score", "The score of the adapter published as the best", value,
                  [("target", record.target.rawValue), ("metric", record.metric)])
            // How fresh the best is: its window's newest step, and the saves ingested since.
            gauge("mwad_best_window_step", "Newest step of the window the best adapter came from", Double(record.step), [])
            let behind = snapshot.checkpoints.filter { ($0.status == .ingested || $0.status == .evicted) && $0.step > record.step }.count
            gauge("mwad_best_saves_behind", "Checkpoints ingested after the best adapter's window (alert when it grows: the evaluator is slower than the saves)",
                  Double(behind), [])
        }
    }
}
