import Dispatch
import Foundation
import Synchronization
import Ingest
import Merge
import SafeTensors
import Settings
import Weigh

/// What every publication target shares: writing a plan's merged adapter, reading its
/// members as a method takes them.
public enum MergePublisher {
    /// Writes the merged adapter to `adapter` by the plan's method (or `writeAdapter`);
    /// returns the method's report, the method and the inputs it read. Where the
    /// settings cap the rank (`max_rank`) and the merge exceeds it, ``RankCap`` writes
    /// its truncated SVD instead, and the method and inputs returned are the SVD's.
    public static func write(_ plan: MergePlan, to adapter: MergeOutput, writeAdapter: ((MergeOutput) throws(PublishError) -> Void)?)
        throws(PublishError) -> (report: MergeReport, method: any MergeMethod, inputs: [MergeInput]) {
        guard plan.settings.maxRank > 0 else { return try uncapped(plan, to: adapter, writeAdapter: writeAdapter) }
        let cap = RankCap(maxRank: plan.settings.maxRank)
        let scratch = cap.scratch(for: adapter)
        defer { try? FileManager.default.removeItem(atPath: scratch.path) }
        let made = try uncapped(plan, to: scratch, writeAdapter: writeAdapter)
        guard let capped = try cap.finish(method: made.method, inputs: made.inputs, report: made.report, written: scratch.path, as: adapter,
                                          newestConfig: plan.newestCheckpoint.configPath, format: plan.newestCheckpoint.format) else { return made }
        return (capped.report, capped.method, capped.inputs)
    }

    private static func uncapped(_ plan: MergePlan, to adapter: MergeOutput, writeAdapter: ((MergeOutput) throws(PublishError) -> Void)?)
        throws(PublishError) -> (report: MergeReport, method: any MergeMethod, inputs: [MergeInput]) {
        // A running sum (writeAdapter) is linear: no method reads the members then.
        let inputs = writeAdapter == nil ? try inputs(plan) : []
        let method: any MergeMethod
        do throws(MergeError) { method = try plan.settings.mergeMethod() } catch { throw .merge(error) }
        if let writeAdapter {
            try writeAdapter(adapter)
            return (MergeReport(), method, inputs)
        }
        do throws(MergeError) { return (try method.write(inputs, to: adapter), method, inputs) } catch { throw .merge(error) }
    }

    /// The members as a merge method takes them: adapter, weight, adapter config.
    public static func inputs(_ plan: MergePlan) throws(PublishError) -> [MergeInput] {
        var inputs: [MergeInput] = []
        for member in plan.members {
            guard let checkpoint = member.checkpoint else {
                throw .io(path: member.source, operation: "merging", reason: "\(member.name) is not read (its copy was folded into the running sum)")
            }
            let config: AdapterConfig?
            if let path = checkpoint.configPath, let data = FileManager.default.contents(atPath: path) {
                do { config = try AdapterConfig(data: data, source: path) } catch { throw .merge(error) }
            } else {
                config = nil
            }
            inputs.append(MergeInput(name: checkpoint.name, file: checkpoint.adapter, weight: member.weight, config: config,
                                     format: checkpoint.format))
        }
        return inputs
    }
}

/// The members' SHA-256s, computed in the background from the moment it is made, on
/// threads of their own: one per core, each taking the next member. (Dispatch ran them
/// on one core: a `concurrentPerform` started while the merge held the pool's threads
/// got a width of one, and blocks queued on a global queue ran one after another.)
final class MemberDigests: Sendable {
    private let done = DispatchGroup()
    private let state: Mutex<(next: Int, digests: [String])>

    init(_ plan: MergePlan) {
        // Only `mwad merge` hashes here, and it reads every member.
        let checkpoints = plan.members.compactMap(\.checkpoint)
        state = Mutex((0, [String](repeating: "", count: checkpoints.count)))
        let threads = min(checkpoints.count, ProcessInfo.processInfo.activeProcessorCount)
        for _ in 0..<threads {
            done.enter()
            Thread { [self] in
                while let index = take(checkpoints.count) {
                    let digest = checkpoints[index].adapterSHA256()
                    state.withLock { $0.digests[index] = digest }
                }
                done.leave()
            }.start()
        }
    }

    private func take(_ count: Int) -> Int? {
        state.withLock { state in
            guard state.next < count else { return nil }
            defer { state.next += 1 }
            return state.next
        }
    }

    func wait() -> [String] {
        done.wait()
        return state.withLock { $0.digests }
    }
}
