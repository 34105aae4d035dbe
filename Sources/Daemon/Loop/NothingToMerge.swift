import Foundation
import Ingest
import Ledger

/// Why a run gave `mwad run --once` nothing to merge, and what to do: a script's exit
/// status is its whole answer, so an empty or unusable run is a failure, not a quiet 0.
struct NothingToMerge: Error, CustomStringConvertible {
    let directory: String
    let snapshot: LedgerSnapshot

    var description: String {
        let fm = FileManager.default
        let names = (try? fm.contentsOfDirectory(atPath: directory)) ?? []
        if let advice = PathAdvice.oneCheckpoint(directory) { return advice }
        if names.contains("adapter_model.bin") && names.contains("adapter_config.json") {
            return "\(directory) is itself a checkpoint folder: watch the trainer's output_dir (its parent, "
                + "\((directory as NSString).deletingLastPathComponent)), or merge it with mwad merge --checkpoints \(directory)"
        }
        let folders = names.filter { $0.hasPrefix("checkpoint-") }
        if !folders.isEmpty, folders.allSatisfy({ fm.fileExists(atPath: "\(directory)/\($0)/adapter_model.bin") }) {
            return "the checkpoints in \(directory) hold adapter_model.bin, a PyTorch pickle, which mwad does not read: "
                + "save the adapter as safetensors (safe_serialization=True, PEFT's and transformers' default)"
        }
        let rejected = snapshot.checkpoints.filter { $0.status == .rejected }.count
        if rejected > 0 {
            return "no usable checkpoint in \(directory): \(rejected == 1 ? "1 was" : "\(rejected) were") rejected (the reasons are above, and in mwad status)"
        }
        // Named as some layout of the catalog names its checkpoints (whichever reads the run).
        let named = names.filter { LayoutCatalog.classify($0, in: directory) != .other }
        if !named.isEmpty {
            return "no complete checkpoint in \(directory) yet: \(named.count == 1 ? "1 is" : "\(named.count) are") still being written or incomplete"
        }
        return "no checkpoint in \(directory) as a trainer mwad knows names them ("
            + LayoutCatalog.all.map { "\($0.description.name): \($0.description.checkpoint)" }.joined(separator: "; ")
            + "): is it the trainer's output folder?"
    }
}
