import SafeTensors

/// Where a merge method writes: a new file at ``path`` with ``metadata`` in its header.
/// Methods open and finish their writer through it, so that the caller decides what
/// else happens to the bytes: the publisher hashes them as they are written (no read
/// back) and fsyncs the whole folder itself.
public struct MergeOutput {
    public var path: String
    public var metadata: [String: String]
    /// fsync when finished (false where the caller makes the file durable).
    public var sync: Bool
    /// Start writing back to disk while writing (false for a file that need not reach
    /// the disk soon: the running sum).
    public var writeback: Bool
    /// Write over an existing file in place (see ``SafeTensorsWriter``).
    public var overwrite: Bool
    /// Sees every byte written, in order.
    public var observer: ((UnsafeRawBufferPointer) -> Void)?

    public init(path: String, metadata: [String: String], sync: Bool = true, writeback: Bool = true,
                overwrite: Bool = false, observer: ((UnsafeRawBufferPointer) -> Void)? = nil) {
        self.path = path
        self.metadata = metadata
        self.sync = sync
        self.writeback = writeback
        self.overwrite = overwrite
        self.observer = observer
    }

    /// Creates the file and writes its header.
    public func open(_ tensors: [TensorSpec]) throws(MergeError) -> SafeTensorsWriter {
        do { return try SafeTensorsWriter(path: path, tensors: tensors, metadata: metadata, startWriteback: writeback,
                                      overwrite: overwrite, observer: observer) } catch {
            throw .output(error)
        }
    }

    /// Checks every tensor was written, fsyncs if ``sync``, and closes the file.
    public func finish(_ writer: SafeTensorsWriter) throws(MergeError) {
        do { try writer.finish(sync: sync) } catch { throw .output(error) }
    }
}
