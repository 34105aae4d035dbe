import Foundation
import HostFileSystem
import Ingest
import Publish
import SafeTensors

/// Copies of the checkpoints in the merge window, in the run's state directory.
///
/// The trainer's `save_total_limit` deletes old checkpoint folders right after a
/// save, so whatever a later merge needs is copied first: the adapter, its config and
/// the metrics file. Copies are read with `read(2)` (a file truncated under us gives
/// a short copy that then fails validation, never a SIGBUS), hashed (on a thread of
/// its own) and the adapter's values checked while copied, fsynced, and renamed into
/// place: `retained/<sha256 prefix>/checkpoint-<step>/`. One read of the trainer's
/// file does it all.
struct RetainedStore {
    let root: String

    init(stateDirectory: String) {
        root = "\(stateDirectory)/retained"
    }

    /// A copy made in a staging folder, not yet in place.
    struct Staged {
        var folder: String
        var adapterSHA256: String
        var adapterSize: Int64
        /// The adapter's values, checked during the copy.
        var adapterScan: StreamingScan.Outcome
        /// The newest modification time of the files copied: they are the files the
        /// copy was made of as long as none is newer.
        var newestModification: Date
    }

    /// Removes staging folders a crash left behind.
    func removeLeftovers() {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [] where name.hasPrefix(".staging-") {
            try? FileManager.default.removeItem(atPath: "\(root)/\(name)")
        }
    }

    /// Copies the `required` files of the checkpoint at `checkpoint` (the first must be
    /// the adapter; `layout` says where each is) and those of `optional` that exist
    /// into a new staging folder, and writes `written` (name → bytes) beside them.
    /// Every file is opened before any is copied: once open, a folder deleted by
    /// `save_total_limit` can still be copied whole.
    func stage(from checkpoint: String, layout: any TrainerLayout, required: [String], optional: [String] = [],
               written: [String: Data] = [:]) throws -> Staged {
        let names = required + optional.filter { FileManager.default.fileExists(atPath: layout.path(of: $0, in: checkpoint)) }
        let sources = try names.map { try SourceFile(path: layout.path(of: $0, in: checkpoint)) }
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let staging: String
        switch Posix.makeTemporaryDirectory(prefix: "\(root)/.staging-") {
        case .success(let path): staging = path
        case .failure(let error): throw RetainError(path: root, reason: "mkdtemp: \(error)")
        }
        do {
            let scan = StreamingScan(fileSize: Int(sources[0].size))
            let digests = try zip(names, sources).enumerated().map { index, file in
                try Self.copy(file.1, to: "\(staging)/\(file.0)", observe: index == 0 ? scan.consume : nil)
            }
            for (name, data) in written.sorted(by: { $0.key < $1.key }) {
                do { try Durable.write(data, to: "\(staging)/\(name)") } catch { throw RetainError(path: "\(staging)/\(name)", reason: "\(error)") }
            }
            return Staged(folder: staging, adapterSHA256: digests[0], adapterSize: sources[0].size, adapterScan: scan.outcome,
                          newestModification: sources.map(\.modified).max()!)
        } catch {
            discard(staging)
            throw error
        }
    }

    /// Moves a staged copy into place as `name` (the trainer's folder name, so that the
    /// layout reads the copy as it reads the original); returns its folder.
    func commit(_ staged: Staged, name: String) throws -> String {
        let parent = "\(root)/\(staged.adapterSHA256.prefix(16))"
        let final = "\(parent)/\(name)"
        try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
        if FileManager.default.fileExists(atPath: final) {
            discard(staged.folder)  // the same content, retained before
            return final
        }
        guard rename(staged.folder, final) == 0 else {
            throw RetainError(path: final, reason: "rename: \(Posix.errnoText())")
        }
        Posix.syncDirectory(parent)
        Posix.syncDirectory(root)
        return final
    }

    /// Deletes a retained copy (and its digest folder, when empty).
    func remove(_ folder: String) {
        guard folder.hasPrefix(root + "/") else { return }  // never outside the store
        try? FileManager.default.removeItem(atPath: folder)
        let parent = (folder as NSString).deletingLastPathComponent
        if ((try? FileManager.default.contentsOfDirectory(atPath: parent)) ?? ["?"]).isEmpty {
            try? FileManager.default.removeItem(atPath: parent)
        }
    }

    func discard(_ staging: String) {
        try? FileManager.default.removeItem(atPath: staging)
    }

    /// Copies `source` to `destination` with read/write, fsyncs it, and returns the
    /// SHA-256 of what was copied; `observe` sees every chunk, in order. Reads no more
    /// than the size the file had when it was opened, and fails if the file was
    /// rewritten or replaced meanwhile. Writeback starts as the copy grows, so the
    /// fsync at the end waits only for the tail.
    static func copy(_ source: SourceFile, to destination: String,
                     observe: ((UnsafeRawBufferPointer) -> Void)? = nil) throws -> String {
        let output = open(destination, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard output >= 0 else { throw RetainError(path: destination, reason: Posix.errnoText()) }
        defer { close(output) }
        let hasher = BackgroundDigest()
        defer { _ = hasher.finalize() }  // ends its thread on every path
        var total: Int64 = 0
        var writeback = Writeback(descriptor: output)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 64)
        defer { buffer.deallocate() }
        while total < source.size {
            let count = read(source.fd, buffer.baseAddress, min(buffer.count, Int(source.size - total)))
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else { throw RetainError(path: source.path, reason: Posix.errnoText()) }
            if count == 0 { break }
            let chunk = UnsafeRawBufferPointer(rebasing: buffer[..<count])
            hasher.update(chunk)
            observe?(chunk)
            try writeAll(output, chunk, path: destination)
            total += Int64(count)
            writeback.wrote(count)
        }
        try source.checkUnchanged(copied: total)
        guard fsync(output) == 0 else { throw RetainError(path: destination, reason: "fsync: \(Posix.errnoText())") }
        return hasher.finalize()
    }

    private static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws {
        var offset = 0
        while offset < bytes.count {
            let written = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { throw RetainError(path: path, reason: Posix.errnoText()) }
            offset += written
        }
    }
}

/// A copy into the state directory failed: which file, and why.
struct RetainError: Error, CustomStringConvertible {
    var path: String
    var reason: String
    /// The trainer's file was not there to open (its folder deleted by rotation).
    var vanished = false
    /// The trainer's file grew or was rewritten while it was copied: still being
    /// written (trainers write `trainer_state.json` in place, not atomically).
    var changing = false
    /// The trainer's file exists but this user may not read it (EACCES, EPERM): a
    /// permission to fix, not a broken checkpoint.
    var unreadable = false
    var description: String { "\(path): \(reason)" }
}
