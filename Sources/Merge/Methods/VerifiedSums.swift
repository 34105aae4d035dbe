import Foundation
import Synchronization

/// Saved sums this process wrote or already checked, so that each is read for its
/// checksum at most once per process: what a power cut can tear is what was on disk
/// when the daemon started, not what it wrote since. A sum is known by its inode,
/// size, modification time and checksum, so one changed behind the daemon's back is
/// checked again.
enum VerifiedSums {
    private static let known = Mutex<Set<String>>([])

    static func contains(_ path: String, checksum: String) -> Bool {
        guard let identity = identity(path, checksum: checksum) else { return false }
        return known.withLock { $0.contains(identity) }
    }

    static func insert(_ path: String, checksum: String) {
        guard let identity = identity(path, checksum: checksum) else { return }
        known.withLock { known in
            if known.count >= 16 { known.removeAll() }  // each update adds one; only the newest matter
            known.insert(identity)
        }
    }

    private static func identity(_ path: String, checksum: String) -> String? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return "\(info.st_dev):\(info.st_ino):\(info.st_size):\(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec):\(checksum)"
    }
}
