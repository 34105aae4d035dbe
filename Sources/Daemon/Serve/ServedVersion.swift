import Foundation
import Ingest
import Merge
import Publish
import SafeTensors
import Settings

/// One immutable version folder for the server, `<dir>/<name>-<step>-<shortsha>/`:
/// the published PEFT adapter as it is, or, where its rank exceeds `serve.max_rank`,
/// its truncated SVD at that rank (the svd method over the one adapter: the best
/// rank-k approximation of its ΔW), with the config rewritten to match. Built in a
/// hidden folder and renamed into place: the server never sees half a version.
struct ServedVersion: Sendable {
    var path: String
    var step: Int64?
    /// The adapter's LoRA rank as served.
    var rank: Int
    /// ‖ΔW − ΔW_k‖ / ‖ΔW‖ overall, where it was truncated.
    var truncationError: Double?

    static func make(from folder: String, files: OutputProposal, step: Int64?, settings: ServeSettings) throws -> ServedVersion {
        guard let configFile = files.configFile else {
            throw ServeFailure("vLLM loads PEFT adapter folders (an adapter with its adapter_config.json): this run's layout publishes \(files.adapterFile) without one, so it cannot be served (the layouts \(ServeSettings.servableLayouts.joined(separator: ", ")) can)")
        }
        let adapterPath = "\(folder)/\(files.adapterFile)", configPath = "\(folder)/\(configFile)"
        let adapter = try SafeTensorsFile(path: adapterPath)
        let rank = RankCap.rank(of: adapter)
        try FileManager.default.createDirectory(atPath: settings.directory, withIntermediateDirectories: true)
        let staging = "\(settings.directory)/.staging-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try? FileManager.default.removeItem(atPath: staging)
        try FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(atPath: staging) }
        var served = ServedVersion(path: "", step: step, rank: rank, truncationError: nil)
        if settings.maxRank > 0, rank > settings.maxRank {
            // The same truncation as merge.max_rank's (RankCap): the best rank-k ΔW.
            let config = try AdapterConfig(data: try Data(contentsOf: URL(fileURLWithPath: configPath)), source: configPath)
            let capped = try RankCap(maxRank: settings.maxRank).truncate(
                adapter, rank: rank, config: config, format: .peft,
                to: MergeOutput(path: "\(staging)/\(files.adapterFile)", metadata: adapter.metadata ?? ["format": "pt"]))
            if let rewritten = try capped.method.adapterConfig(for: capped.inputs, report: capped.report) {
                try rewritten.write(to: URL(fileURLWithPath: "\(staging)/\(configFile)"))
            }
            served.rank = settings.maxRank
            served.truncationError = capped.report.truncationError
        } else {
            for name in [files.adapterFile, configFile] {
                try FileManager.default.copyItem(atPath: "\(folder)/\(name)", toPath: "\(staging)/\(name)")
            }
        }
        withExtendedLifetime(adapter) {}
        let sha = try FileDigest.sha256(ofFile: "\(staging)/\(files.adapterFile)")
        let path = "\(settings.directory)/\(settings.name)-\(step.map(String.init) ?? "x")-\(sha.prefix(8))"
        if FileManager.default.fileExists(atPath: path) {  // the same adapter again: its folder stands
            served.path = path
            return served
        }
        for name in try FileManager.default.contentsOfDirectory(atPath: staging) { try Durable.syncFile("\(staging)/\(name)") }
        try Durable.syncDirectory(staging)
        guard rename(staging, path) == 0 else { throw ServeFailure("cannot rename \(staging) to \(path): \(String(cString: strerror(errno)))") }
        try Durable.syncDirectory(settings.directory)
        served.path = path
        return served
    }
}
