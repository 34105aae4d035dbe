import Foundation

/// What to say when a path names the wrong thing: one checkpoint given as the run, or a
/// run given as one checkpoint. Read from the layouts' own evidence, so every layout the
/// catalog knows is covered.
public enum PathAdvice {
    /// `path` is itself one checkpoint of a layout (its parent holds the run): the
    /// advice to give the parent, or to merge it with `--checkpoints`; nil otherwise.
    public static func oneCheckpoint(_ path: String) -> String? {
        let absolute = RunDirectory.absolute(path)
        let parent = (absolute as NSString).deletingLastPathComponent
        let name = (absolute as NSString).lastPathComponent
        guard !name.isEmpty, let layout = LayoutCatalog.all.first(where: { $0.evidence(parent, [name]) != nil }) else { return nil }
        let evidence = layout.evidence(parent, [name]) ?? ""
        return "\(absolute) is one checkpoint of a \(layout.description.name) run (\(evidence)), not a run: "
            + "give the run, its parent \(parent) (mwad merge \(parent), or --watch \(parent)), or merge this one checkpoint with --checkpoints \(absolute)"
    }

    /// `path`, given as a checkpoint, is a run holding checkpoints: the advice to give
    /// it as the run, or to name its checkpoints; nil otherwise.
    public static func aRun(_ path: String) -> String? {
        let absolute = RunDirectory.absolute(path)
        guard let (description, evidence) = LayoutCatalog.detect(in: absolute) else { return nil }
        let layout = description.make(MetricsSource())
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: absolute)) ?? []).compactMap { name -> (Int64, String)? in
            guard case .checkpoint(let step) = layout.classify(name, in: absolute) else { return nil }
            return (step, name)
        }.sorted { $0.0 < $1.0 }.map(\.1)
        let example = names.suffix(2).map { "\(absolute)/\($0)" }.joined(separator: " ")
        return "\(absolute) is a \(description.name) run holding \(names.count == 1 ? "1 checkpoint" : "\(names.count) checkpoints") (\(evidence)), not one checkpoint: "
            + "give it as the run (mwad merge \(absolute)), or name checkpoints with --checkpoints \(example)"
    }
}
