import Dispatch
import Foundation
import Synchronization
import Ingest
import Merge
import SafeTensors
import Settings
import Weigh

/// Merges a plan's members and publishes the result atomically in the members' layout's
/// form: a folder holding the adapter under the layout's name (for a PEFT folder,
/// `adapter_model.safetensors`), the config where the layout has one (the newest
/// member's, or the method's rewrite of it), and `mwa_merge.json`; or, for a layout
/// whose checkpoints are single files, one file (see ``publishFile(_:to:now:digests:writeAdapter:)``).
public enum MergePublisher {
    /// Publishes `plan` at `output` in `form` (for a file, at ``OutputForm/target(at:)``);
    /// returns the manifest written. On failure the
    /// previous output is left as it was. `writeAdapter` writes the merged adapter
    /// where the caller merges otherwise than by the plan's method (the daemon's
    /// running window sum). The merged adapter is hashed as it is written.
    @discardableResult
    public static func publish(_ plan: MergePlan, to output: String, form: OutputForm, now: Date = Date(), digests: [String]? = nil,
                               writeAdapter: ((MergeOutput) throws(PublishError) -> Void)? = nil)
        throws(PublishError) -> MergeManifest {
        if form.isFile {
            return try publishFile(plan, to: form.target(at: output), now: now, digests: digests, writeAdapter: writeAdapter)
        }
        // The members are hashed (each on its own core) while the merge streams.
        let hashing = digests == nil ? MemberDigests(plan) : nil
        var manifest: MergeManifest?
        try AtomicDirectory.replace(output) { staging throws(PublishError) in
            let hasher = BackgroundDigest()
            defer { _ = hasher.finalize() }  // ends its thread on every path
            // Not fsynced here: AtomicDirectory fsyncs the whole staging folder.
            let adapter = MergeOutput(path: (staging as NSString).appendingPathComponent(form.adapterFile),
                                      metadata: Provenance.metadata(for: plan), sync: false) { hasher.update($0) }
            let (report, method, inputs) = try write(plan, to: adapter, writeAdapter: writeAdapter)
            var made = MergeManifest(plan: plan, created: now, digests: digests ?? hashing!.wait(), report: report)
            made.outputSHA256 = hasher.finalize()
            manifest = made
            if let configFile = form.configFile {
                let config = (staging as NSString).appendingPathComponent(configFile)
                let rewritten: Data?
                do throws(MergeError) { rewritten = try method.adapterConfig(for: inputs, report: report) } catch { throw .merge(error) }
                if let rewritten {
                    try Durable.write(rewritten, to: config)
                } else if let source = plan.newestCheckpoint.configPath {
                    try copy(source, to: config)
                }
            }
            try Durable.write(made.encoded(), to: (staging as NSString).appendingPathComponent(AtomicDirectory.marker))
        }
        return manifest!  // set whenever the replace succeeded
    }

    /// Writes the merged adapter to `adapter` by the plan's method (or `writeAdapter`);
    /// returns the method's report, the method and the inputs it read.
    static func write(_ plan: MergePlan, to adapter: MergeOutput, writeAdapter: ((MergeOutput) throws(PublishError) -> Void)?)
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

    private static func copy(_ source: String, to destination: String) throws(PublishError) {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: source)) } catch {
            throw .io(path: source, operation: "reading", reason: error.localizedDescription)
        }
        try Durable.write(data, to: destination)
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
