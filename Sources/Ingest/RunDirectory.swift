import Foundation

/// A checkpoint folder found in a run directory, not yet read.
public struct CheckpointRef: Sendable, Hashable {
    public var step: Int64
    /// The folder's path.
    public var path: String
    /// Where the folder was copied from, when `path` is a copy the daemon retained
    /// (the trainer may delete the original); nil when `path` is the original.
    public var origin: String?

    public init(step: Int64, path: String, origin: String? = nil) {
        self.step = step
        self.path = path
        self.origin = origin
    }

    /// The trainer's folder: `origin` for a retained copy, else `path`.
    public var source: String { origin ?? path }

    /// The trainer's folder name (`checkpoint-80`, also for a retained copy), for messages.
    public var name: String { (source as NSString).lastPathComponent }
}

/// Something in a run directory that looks like a checkpoint but was passed over.
public struct SkippedEntry: Sendable, Equatable {
    public var name: String
    public var reason: String

    public init(name: String, reason: String) {
        self.name = name
        self.reason = reason
    }
}

/// The checkpoint folders of a trainer's output directory.
public struct RunDirectory: Sendable {
    public var path: String
    /// Checkpoints ordered by step (the number, not the name: 100 after 90).
    public var checkpoints: [CheckpointRef]
    /// Checkpoint-like entries that were passed over, with the reason.
    public var skipped: [SkippedEntry]

    /// Lists `path`. Symbolic links are never followed: a link could point anywhere,
    /// and the trainer never makes them.
    public static func scan(_ path: String, layout: any TrainerLayout) throws(IngestError) -> RunDirectory {
        let path = absolute(path)
        var info = stat()
        guard stat(path, &info) == 0 else { throw .runDirectoryUnreadable(path: path, reason: String(cString: strerror(errno))) }
        guard (info.st_mode & S_IFMT) == S_IFDIR else { throw .runDirectoryUnreadable(path: path, reason: "not a folder") }
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: path) } catch {
            throw .runDirectoryUnreadable(path: path, reason: Self.reason(error))
        }
        var found: [CheckpointRef] = []
        var skipped: [SkippedEntry] = []
        for name in names.sorted() {
            switch layout.classify(name, in: path) {
            case .other: continue
            case .malformed(let reason): skipped.append(SkippedEntry(name: name, reason: reason))
            case .checkpoint(let step):
                let full = (path as NSString).appendingPathComponent(name)
                if let problem = Self.notA(layout.checkpointsAreFiles ? S_IFREG : S_IFDIR, full) {
                    skipped.append(SkippedEntry(name: name, reason: problem))
                } else {
                    found.append(CheckpointRef(step: step, path: full))
                }
            }
        }
        return RunDirectory(path: path, checkpoints: found.sorted { $0.step < $1.step }, skipped: skipped)
    }

    /// Why `path` is not a plain directory (or, for `S_IFREG`, a regular file), or nil when it is.
    private static func notA(_ kind: mode_t, _ path: String) -> String? {
        var info = stat()
        guard lstat(path, &info) == 0 else { return Self.vanishedWhileListing }
        switch info.st_mode & S_IFMT {
        case kind: return nil
        case S_IFLNK: return "symbolic link, not followed"
        default: return kind == S_IFDIR ? "not a folder" : "not a regular file"
        }
    }

    /// The bytes of a small file (metrics), or why it cannot be read.
    static func read(_ path: String) throws(IngestError) -> Data {
        do { return try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw .unreadable(path: path, reason: reason(error))
        }
    }

    /// `path` made absolute, so that paths recorded in manifests mean the same later.
    public static func absolute(_ path: String) -> String {
        URL(fileURLWithPath: path).standardizedFileURL.path
    }

    /// A folder the settings name relative to the run (`metrics.logdir`), or absolute.
    public static func folder(_ folder: String, in run: String) -> String {
        folder.hasPrefix("/") ? folder : "\(run)/\(folder)"
    }

    public static func reason(_ error: any Error) -> String {
        let underlying = (error as NSError).userInfo[NSUnderlyingErrorKey] as? NSError
        if let underlying, underlying.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(underlying.code)))
        }
        // Foundation reports some errnos as its own codes, with a sentence for a reason.
        switch (error as? CocoaError)?.code {
        case .fileReadNoPermission?: return String(cString: strerror(EACCES))
        case .fileReadNoSuchFile?, .fileNoSuchFile?: return String(cString: strerror(ENOENT))
        default: return (error as NSError).localizedDescription
        }
    }
}

extension RunDirectory {
    /// The newest `count` checkpoints that load completely, in step order, and the
    /// newer ones passed over on the way, with why (a checkpoint still being written,
    /// a broken file). Older checkpoints are not read once the window is full.
    public func latestComplete(_ count: Int, layout: any TrainerLayout) -> (checkpoints: [Checkpoint], passedOver: [SkippedEntry]) {
        var chosen: [Checkpoint] = []
        var passedOver: [SkippedEntry] = []
        for ref in checkpoints.reversed() where chosen.count < count {
            do { chosen.append(try Checkpoint.load(ref, layout: layout)) } catch {
                passedOver.append(SkippedEntry(name: ref.name, reason: error.description))
            }
        }
        return (chosen.reversed(), passedOver)
    }
}

extension RunDirectory {
    /// The reason given for a folder deleted between listing and looking at it.
    public static let vanishedWhileListing = "vanished while listing"
}
