import Foundation
import Ingest
import Merge
import Publish
import Settings

/// `serve.url`: the configured publication target, and after each merge it publishes
/// (`serve.publish: merge`) or each best adapter it hands over (`best`), that adapter
/// published into the serving engine too (``ServingPublisher``). What is written to
/// disk is the inner target's, whatever the server answers.
struct ServingPublication: PublicationTarget {
    let inner: any PublicationTarget
    let layout: any TrainerLayout
    let server: ServingPublisher
    let settings: ServeSettings
    /// Each best adapter (else each merge).
    let servesBest: Bool

    var name: String { inner.name }
    var scratch: any PublicationTarget { inner.scratch }

    func target(at output: String) -> String { inner.target(at: output) }
    func adapterPath(at output: String) -> String { inner.adapterPath(at: output) }
    func isPublished(at output: String) -> Bool { inner.isPublished(at: output) }
    func placementProblem(_ output: String, run: String?) -> String? { inner.placementProblem(output, run: run) }
    func handOverPath(at output: String, note: HandOverNote) -> String { inner.handOverPath(at: output, note: note) }
    func freeze(publishedAt output: String, into folder: String) throws { try inner.freeze(publishedAt: output, into: folder) }
    func evaluatorPath(folder: String, adapter: String) -> String { inner.evaluatorPath(folder: folder, adapter: adapter) }

    func publish(_ plan: MergePlan, to output: String, now: Date, digests: [String]?,
                 writeAdapter: ((MergeOutput) throws(PublishError) -> Void)?) throws(PublishError) -> MergeManifest {
        let manifest = try inner.publish(plan, to: output, now: now, digests: digests, writeAdapter: writeAdapter)
        if !servesBest { offer(inner.target(at: output), step: plan.newestCheckpoint.step) }
        return manifest
    }

    func handOver(_ folder: String, to output: String, note: HandOverNote) throws(PublishError) -> String {
        let written = try inner.handOver(folder, to: output, note: note)
        if servesBest, note.key == "mwa_best" { offer(written, step: note.step) }
        return written
    }

    /// Makes the version now (the published folder is replaced by the next merge) and
    /// leaves its loading to the publisher.
    private func offer(_ folder: String, step: Int64?) {
        let server = server
        do {
            let version = try ServedVersion.make(from: folder, files: layout.output, step: step, settings: settings)
            server.offer(version)
        } catch {
            let text = (error as? ServeFailure)?.reason ?? "\(error)"
            server.failed("cannot make a version of \(folder) to serve: \(text)")
        }
    }
}
