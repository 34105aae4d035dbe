import Foundation
import Ingest
import SafeTensors

/// Publishes an existing adapter file (a merge, a candidate, or a checkpoint) as the
/// single file `target`, atomically, with `metadata` added to its own: how the daemon
/// hands over the best adapter of a layout whose merges are single files, its
/// manifest inside it, since nothing may be written beside it.
public enum FilePublisher {
    /// Replaces `target` with the tensors of `adapter` and its metadata plus `metadata`
    /// (and ``AtomicFile/markerKey``, which marks `target` as mwad's, safe to replace).
    public static func publish(_ adapter: String, to target: String, metadata: [String: String]) throws(PublishError) {
        let source: SafeTensorsFile
        do { source = try SafeTensorsFile(path: adapter) } catch {
            throw .io(path: adapter, operation: "reading", reason: error.description)
        }
        var merged = source.metadata ?? [:]
        merged[AtomicFile.markerKey] = merged[AtomicFile.markerKey] ?? Provenance.version
        merged.merge(metadata) { _, new in new }
        try AtomicFile.replace(target) { staging throws(PublishError) in
            do throws(SafeTensorsError) {
                let specs = source.tensors.map { TensorSpec(name: $0.name, dtype: $0.dtype, shape: $0.shape) }
                let writer = try SafeTensorsWriter(path: staging, tensors: specs, metadata: merged)
                for tensor in writer.layout {
                    try writer.append(source.bytes(of: source.tensor(named: tensor.name)!))
                }
                try writer.finish(sync: false)  // AtomicFile fsyncs it before the rename
            } catch {
                throw .io(path: staging, operation: "writing", reason: error.description)
            }
        }
        withExtendedLifetime(source) {}
    }
}
