/// What the watcher saw, reduced to what the daemon acts on. Events are hints: the
/// daemon always re-reads the directory to decide, so a lost, repeated or reordered
/// event can delay a decision but never make it wrong.
public enum WatchEvent: Hashable, Sendable {
    /// A checkpoint folder appeared (created or renamed in) and is now watched; files
    /// written into it before its watch existed are found by scanning it.
    case folderAppeared(String)
    /// A checkpoint folder was deleted or renamed away.
    case folderVanished(String)
    /// A file in a checkpoint folder was closed after writing or renamed in.
    case fileWritten(folder: String, file: String)
    /// The kernel's event queue overflowed (or the watcher's own backlog did): events
    /// were lost, so everything must be rescanned.
    case overflow
    /// The watched directory itself was deleted or moved away.
    case rootGone
}
