import Foundation

/// `stat(2)` times and sizes, without following nothing but the path given.
public enum FileTimes {
    /// The modification time of `path`, nil when it cannot be stat'ed.
    public static func modified(_ path: String) -> Date? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return Date(timeIntervalSince1970: Double(info.st_mtim.tv_sec) + Double(info.st_mtim.tv_nsec) / 1e9)
    }

    /// The size of `path` in bytes, nil when it cannot be stat'ed.
    public static func size(_ path: String) -> Int64? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return Int64(info.st_size)
    }
}
