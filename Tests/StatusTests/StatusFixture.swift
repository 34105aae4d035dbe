import Foundation
import Ledger
import MWADTestKit
import Settings
import Weigh

/// A ledger with a known history: ten checkpoints of a run, one rejected, one missed, a merge of
/// the last three, a skipped folder, and a daemon that beat 4 s before `now`.
enum StatusFixture {
    static let start = Date(timeIntervalSince1970: 1_800_000_000)  // 2027-01-15 08:00:00Z
    static let now = start.addingTimeInterval(1000)

    static func make(in dir: TemporaryDirectory) throws -> String {
        let path = dir.file("ledger.sqlite")
        let ledger = try Ledger(path: path)
        try ledger.registerRun(watch: "/data/runs/llama", output: "/data/runs/llama-mwa",
                               settings: MergeSettings(window: 3, weighting: "loss", penalty: 1), now: start)
        let losses = [4.44, 4.21, 3.97, 3.83, 3.77, 3.75, 3.72, 3.68]
        var ids: [Int64] = []
        for (index, loss) in losses.enumerated() {
            let step = Int64(index + 1) * 10
            let at = start.addingTimeInterval(Double(index) * 60)
            let row = CheckpointRecord(step: step, sourcePath: "/data/runs/llama/checkpoint-\(step)",
                                       retainedPath: "/var/lib/mwad/llama/retained/checkpoint-\(step)",
                                       adapterSize: 69032, adapterSHA256: String(repeating: "\(index)", count: 64),
                                       trainLoss: loss, evalLoss: index % 2 == 1 ? loss + 0.05 : nil,
                                       status: index < 5 ? .evicted : .ingested, discoveredAt: at, ingestedAt: at)
            ids.append(try ledger.record(row).current.id!)
        }
        try ledger.record(CheckpointRecord(
            step: 90, sourcePath: "/data/runs/llama/checkpoint-90", adapterSize: 1000, adapterSHA256: "9",
            status: .rejected,
            reason: "/data/runs/llama/checkpoint-90/adapter_model.safetensors: file is truncated: tensor data needs 69024 bytes, 992 present",
            discoveredAt: start.addingTimeInterval(500)))
        var missed = CheckpointRecord(step: 85, sourcePath: "/data/runs/llama/checkpoint-85", status: .missed,
                                      reason: "/data/runs/llama/checkpoint-85 was deleted within 140 ms of appearing, while mwad waited: trainer_state.json was not written yet (save_total_limit rotated it away faster than mwad could copy it)",
                                      discoveredAt: start.addingTimeInterval(450))
        missed.vanishedAt = start.addingTimeInterval(450.14)
        try ledger.record(missed)
        let weights = [0.330261, 0.332916, 0.336823]
        let merge = MergeRecord(createdAt: start.addingTimeInterval(421), settings: MergeSettings(window: 3, weighting: "loss", penalty: 1),
                                outputPath: "/data/runs/llama-mwa", outputSHA256: "f15009ec572b" + String(repeating: "0", count: 52),
                                durationSeconds: 0.184)
        let published = try ledger.record(merge: merge, members: (0..<3).map {
            MergeMemberInput(checkpointID: ids[5 + $0], weight: weights[$0], metricValue: losses[5 + $0])
        })
        // The user's evaluator on that window: the merge, checkpoint-80, one candidate.
        let at = start.addingTimeInterval(430)
        func evaluation(_ target: EvaluationRecord.Target, _ value: Double?, settings: MergeSettings? = nil, error: String? = nil) -> EvaluationRecord {
            EvaluationRecord(mergeID: published.id!, target: target, step: 80, settings: settings, metric: "eval_loss", value: value,
                             status: value == nil ? .failed : .ok, error: error, exitStatus: value == nil ? 1 : 0, startedAt: at,
                             durationSeconds: 12.5)
        }
        try ledger.record(evaluations: [
            evaluation(.merge, 3.702),
            evaluation(.checkpoint, 3.731),
            evaluation(.candidate, 3.698, settings: MergeSettings(window: 3, weighting: "uniform", penalty: 0)),
            evaluation(.candidate, nil, settings: MergeSettings(window: 2), error: "exit status 1; stderr: CUDA out of memory"),
        ], best: 2, bestOutput: "/data/runs/llama-best", at: start.addingTimeInterval(480))
        try ledger.daemonStarted(DaemonRecord(pid: 4242, host: "gpu01", version: "0.1.0", startedAt: start,
                                              heartbeatAt: now.addingTimeInterval(-4), heartbeatInterval: 10))
        try ledger.setLayout("huggingface (auto: checkpoint-10 holds adapter_model.safetensors)")
        try ledger.recordError("checkpoint-90 rejected", at: start.addingTimeInterval(500))
        try ledger.setSkipped([("checkpoint-best", "'best' is not a step number")], now: start.addingTimeInterval(30))
        return path
    }
}
