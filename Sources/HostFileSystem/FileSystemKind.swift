import CLinuxSupport

/// The kind of file system a path lives on, as far as mwad cares: inotify does not see
/// writes made by other clients of a network file system, and SQLite's WAL needs
/// shared memory that network file systems do not provide.
public enum FileSystemKind: Equatable, Sendable, CustomStringConvertible {
    case local
    /// A network or cluster file system (name from its magic number).
    case network(String)
    /// A FUSE mount: possibly remote (sshfs, s3fs, gcsfuse), so treated like one.
    case fuse

    /// The kind of the file system holding `path`, or of its nearest existing ancestor
    /// (so that a path not created yet is judged by where it will be created).
    public static func of(_ path: String) -> FileSystemKind {
        var candidate = path
        while true {
            let magic = mwad_fs_magic(candidate)
            if magic != 0 { return kind(magic: UInt64(magic)) }
            guard let slash = candidate.lastIndex(of: "/"), candidate != "/" else { return .local }
            candidate = slash == candidate.startIndex ? "/" : String(candidate[..<slash])
        }
    }

    /// Classifies a `statfs` magic number (see statfs(2) and each file system's source).
    public static func kind(magic: UInt64) -> FileSystemKind {
        switch magic & 0xFFFF_FFFF {
        case 0x6969: .network("nfs")
        case 0xFF53_4D42: .network("cifs")
        case 0xFE53_4D42: .network("smb2")
        case 0x517B: .network("smb")
        case 0x0BD0_0BD0: .network("lustre")
        case 0x4750_4653: .network("gpfs")
        case 0x1983_0326: .network("beegfs")
        case 0x00C3_6400: .network("ceph")
        case 0x6B41_4653: .network("afs")
        case 0xAAD7_AAEA: .network("panfs")
        case 0x0102_1997: .network("9p")
        case 0x6573_5546: .fuse
        default: .local
        }
    }

    /// Whether inotify and SQLite's WAL can be trusted here.
    public var isLocal: Bool { self == .local }

    public var description: String {
        switch self {
        case .local: "local"
        case .network(let name): name
        case .fuse: "fuse"
        }
    }
}
