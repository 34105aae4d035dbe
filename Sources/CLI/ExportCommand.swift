import ArgumentParser
import Foundation
import Ingest
import Ledger
import Publish

/// `mwad export`: a checkpoint back from mwad's retained copy, after the trainer's
/// rotation deleted it.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a checkpoint mwad retained out as a loadable adapter (the trainer's rotation may have deleted it).",
        discussion: """
            The adapter and its config, byte for byte as the trainer wrote them, into --out \
            (replaced atomically; a folder or file mwad did not make is never replaced), with \
            mwa_export.json saying which checkpoint it is; for kohya or ai-toolkit files, one \
            file (NAME-stepNNNNNNNN.safetensors in --out, or --out itself when it ends in \
            .safetensors), mwa_export in its metadata. mwad status --all shows which steps \
            have a retained copy. Exit status 0 when written, 1 otherwise.
            """
    )

    @OptionGroup var source: LedgerSource

    @Option(help: "The step of the checkpoint to export.")
    var step: Int64?

    @Flag(help: "Export the newest checkpoint that has a retained copy.")
    var newest = false

    @Option(help: "The folder (or, for kohya or ai-toolkit files, the file) to write.")
    var out: String

    func validate() throws {
        guard source.isGiven else { throw ValidationError("Give --ledger FILE, --watch DIR or --state-dir DIR.") }
        guard (step != nil) != newest else { throw ValidationError("Give either --step S or --newest.") }
    }

    func run() throws {
        do {
            let path = try source.ledgerPath()
            let snapshot = try LedgerReader(path: path).snapshot()
            let kept = snapshot.checkpoints.filter { $0.retainedPath.map(FileManager.default.fileExists(atPath:)) == true && $0.status != .replaced }
            let steps = kept.map { "\($0.step)" }.joined(separator: ", ")
            guard let row = newest ? kept.max(by: { $0.step < $1.step }) : kept.last(where: { $0.step == step }) else {
                throw CommandError(kept.isEmpty ? "\(path): no checkpoint has a retained copy (mwad keeps the window's, and evicts the rest)"
                    : "\(path): no retained copy of step \(step!); these steps can be exported: \(steps)")
            }
            let target = try CheckpointExport.write(retained: row.retainedPath!, publication: Self.publication(snapshot, retained: row.retainedPath!),
                                                    step: row.step, source: row.sourcePath, sha256: row.adapterSHA256, to: out,
                                                    note: ["ledger": path])
            print("exported \(row.name) (step \(row.step), sha256 \(row.adapterSHA256?.prefix(12) ?? "?")) to \(target)")
        } catch {
            printError(error)
            throw ExitCode.failure
        }
    }

    /// How the daemon published the run's merges (its recorded target), for the run's layout.
    static func publication(_ snapshot: LedgerSnapshot, retained: String) -> any PublicationTarget {
        PublicationCatalog.make(recordedPublication(snapshot) ?? "auto", layout: layout(snapshot, retained: retained))
    }

    /// The target the daemon recorded (`file (publish: auto, …)`), by name.
    static func recordedPublication(_ snapshot: LedgerSnapshot) -> String? {
        snapshot.daemon?.publication?.split(separator: " ").first.map(String.init)
    }

    /// The run's layout as the daemon recorded it (`huggingface (auto: …)`), else what
    /// the retained copy holds.
    static func layout(_ snapshot: LedgerSnapshot, retained: String) -> any TrainerLayout {
        let named = snapshot.daemon?.layout?.split(separator: " ").first.flatMap { LayoutCatalog.named(String($0)) }
        let held = LayoutCatalog.all.first { entry in
            let layout = entry.description.make(MetricsSource())
            return FileManager.default.fileExists(atPath: "\(retained)/\(layout.adapterFile)")
        }?.description
        return (named ?? held ?? HuggingFaceLayout.description).make(MetricsSource())
    }
}
