import Crypto
import Foundation

/// A SHA-256 of bytes fed in order, computed on a thread of its own from copies of
/// them, so that a file is hashed while it is written instead of after.
///
/// The copies go through a few reused buffers; feeding waits while all of them are
/// queued, so memory stays bounded whatever the file's size. (A thread, not Dispatch:
/// with the merge holding the pool's threads, Dispatch ran such work last.)
public final class BackgroundDigest: @unchecked Sendable {
    private struct Chunk {
        var buffer: UnsafeMutableRawBufferPointer
        var count: Int
    }

    private let condition = NSCondition()
    // Guarded by `condition`.
    private var free: [UnsafeMutableRawBufferPointer] = []
    private var queued: [Chunk] = []
    private var fed = false
    private var digest: String?

    /// Up to `buffers` copies may wait to be hashed at once.
    public init(buffers: Int = 4) {
        free = (0..<buffers).map { _ in .allocate(byteCount: 0, alignment: 64) }
        Thread { [self] in hashUntilFed() }.start()
    }

    deinit {
        for buffer in free { buffer.deallocate() }
    }

    /// Copies `bytes` for the hashing thread (waiting for a free buffer).
    public func update(_ bytes: UnsafeRawBufferPointer) {
        guard !bytes.isEmpty else { return }
        condition.lock()
        while free.isEmpty { condition.wait() }
        var buffer = free.removeLast()
        condition.unlock()
        if buffer.count < bytes.count {
            buffer.deallocate()
            buffer = .allocate(byteCount: bytes.count, alignment: 64)
        }
        buffer.copyMemory(from: bytes)
        condition.lock()
        queued.append(Chunk(buffer: buffer, count: bytes.count))
        condition.broadcast()
        condition.unlock()
    }

    /// Waits for everything fed to be hashed; the digest as lowercase hex.
    public func finalize() -> String {
        condition.lock()
        defer { condition.unlock() }
        fed = true
        condition.broadcast()
        while digest == nil { condition.wait() }
        return digest!
    }

    private func hashUntilFed() {
        var hasher = SHA256()
        condition.lock()
        while true {
            while queued.isEmpty && !fed { condition.wait() }
            guard !queued.isEmpty else { break }
            let chunk = queued.removeFirst()
            condition.unlock()
            hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: chunk.buffer[..<chunk.count]))
            condition.lock()
            free.append(chunk.buffer)
            condition.broadcast()
        }
        digest = FileDigest.hex(hasher.finalize())
        condition.broadcast()
        condition.unlock()
    }
}
