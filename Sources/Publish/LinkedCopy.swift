import Foundation

/// Frozen copies for evaluation: hard links where the file system allows (the retained
/// store and the state folder are on one), copies otherwise.
public enum LinkedCopy {
    /// Hard links each file of `source` (or the file `source`, as `fileName`) into the
    /// new folder `destination`, copying where a link cannot be made.
    public static func make(_ source: String, to destination: String, fileName: String? = nil) throws {
        try FileManager.default.createDirectory(atPath: destination, withIntermediateDirectories: true)
        var isFolder: ObjCBool = false
        _ = FileManager.default.fileExists(atPath: source, isDirectory: &isFolder)
        let pairs = isFolder.boolValue
            ? try FileManager.default.contentsOfDirectory(atPath: source).filter { !$0.hasPrefix(".") }.map { ("\(source)/\($0)", $0) }
            : [(source, fileName ?? (source as NSString).lastPathComponent)]
        for (file, name) in pairs where link(file, "\(destination)/\(name)") != 0 {
            try FileManager.default.copyItem(atPath: file, toPath: "\(destination)/\(name)")
        }
    }
}
