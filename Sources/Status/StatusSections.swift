import Foundation
import Ingest
import Ledger
import SettingsValue

// Each section of the report, made from its ledger rows.
extension StatusReport.Run {
    init(_ run: RunRecord, words: any SettingsWords) {
        let s = run.settings
        self.init(watch: run.watchPath, output: run.outputPath, firstSeen: run.firstSeen, window: s.window.count ?? 0,
                  weighting: s.weighting, penalty: s.parameters["penalty"]?.number, metric: s.metric.rawValue, smoothing: s.smoothing,
                  settings: s, fingerprint: words.effective(s).fingerprint)
    }
}

extension StatusReport.Daemon {
    init(_ record: DaemonRecord?, state: DaemonState, now: Date) {
        self.init(state: state, pid: record?.pid, host: record?.host, version: record?.version, started: record?.startedAt,
                  heartbeat: record?.heartbeatAt, heartbeatAgeSeconds: record.map { now.timeIntervalSince($0.heartbeatAt) },
                  lastError: record?.lastError, lastErrorAt: record?.lastErrorAt,
                  problem: state == .running ? record?.problem : nil, problemSince: state == .running ? record?.problemSince : nil,
                  layout: record?.layout, publication: record?.publication, stopReason: state == .stopped ? record?.stopReason : nil)
    }
}

extension StatusReport.Counts {
    init(_ rows: [CheckpointRecord], everMerged: Set<Int64>) {
        for row in rows {
            switch row.status {
            case .ingested: ingested += 1
            case .rejected: rejected += 1
            case .evicted:
                evicted += 1
                if let id = row.id, !everMerged.contains(id) { neverMerged += 1 }
            case .replaced: replaced += 1
            case .missed: missed += 1
            }
        }
        ingestedTotal = ingested + evicted
    }
}

extension StatusReport.Checkpoint {
    init(_ row: CheckpointRecord) {
        self.init(id: row.id ?? 0, step: row.step, name: row.name, source: row.sourcePath, retained: row.retainedPath,
                  status: row.status.rawValue, reason: row.reason, adapterSize: row.adapterSize,
                  adapterSha256: row.adapterSHA256, trainLoss: row.trainLoss, evalLoss: row.evalLoss,
                  discovered: row.discoveredAt, ingested: row.ingestedAt, vanished: row.vanishedAt)
    }
}

extension StatusReport.Merge {
    init(_ merge: MergeRecord, members: [MergeMemberRecord], snapshot: LedgerSnapshot, words: any SettingsWords) {
        let s = merge.settings
        let rows = members.map { snapshot.checkpoint(id: $0.checkpointID) }
        self.init(id: merge.id ?? 0, created: merge.createdAt, weighting: s.weighting, penalty: s.parameters["penalty"]?.number,
                  metric: words.weightingMetric(s), window: s.window.count ?? 0,
                  smoothing: s.smoothing, method: merge.report?.methodText ?? s.method, report: merge.report, windowKind: s.window.summary,
                  settings: s, fingerprint: merge.fingerprint,
                  madeWithSettingsInForce: snapshot.run.map { words.effective($0.settings).fingerprint == merge.fingerprint } ?? true,
                  windowShort: s.window.count.flatMap { Self.shortness(members.count, of: $0, oldest: rows.first??.step, snapshot: snapshot) },
                  output: merge.outputPath, outputSha256: merge.outputSHA256,
                  durationSeconds: merge.durationSeconds, hookStatus: merge.hookStatus,
                  members: zip(members, rows).map { member, row in
                      StatusReport.Member(checkpointId: member.checkpointID, step: row?.step ?? -1,
                                          name: row?.name ?? "?", metric: member.metricValue, metricStep: member.metricStep,
                                          weight: member.weight)
                  })
    }

    /// Why a merge has fewer members than its window although older checkpoints were
    /// ingested: they were evicted, and their folders were gone when the window grew.
    static func shortness(_ count: Int, of window: Int, oldest: Int64?, snapshot: LedgerSnapshot) -> String? {
        let gone = snapshot.checkpoints.filter { $0.status == .evicted && $0.step < (oldest ?? .max) }
        guard count < window, !gone.isEmpty else { return nil }
        let names = gone.suffix(window - count).map(\.name).joined(separator: ", ")
        return "\(count) of \(window): \(names) were evicted before the window grew, and their folders no longer hold the same adapter"
    }
}
