import Foundation
import HostFileSystem
import Watch

/// Checks at start that merges can be published at the output: mwad builds each merge
/// in a hidden folder beside the output and renames it into place, so the output's
/// parent must be writable, and the output must not be a mount point (a rename cannot
/// replace one). Under systemd's `ProtectSystem=strict`, `ReadWritePaths=` on the
/// output itself breaks both; on its parent, neither.
public enum OutputCheck {
    /// What is wrong with publishing at `output`, with what to change; nil when nothing.
    public static func problem(output: String, mountPoints: Set<String> = MountTable.mountPoints()) -> String? {
        let parent = (output as NSString).deletingLastPathComponent
        if mountPoints.contains(output) {
            return "the output \(output) is a mount point, which a rename cannot replace (under systemd, ReadWritePaths= on the output itself makes it one): make its parent writable instead, e.g. ReadWritePaths=\(parent)"
        }
        // Missing parents are created at the first publish: the nearest existing one counts.
        let existing = FileManager.default.fileExists(atPath: parent) ? parent : ParentWatcher.nearestExistingAncestor(of: parent)
        guard access(existing, W_OK) != 0 else { return nil }
        let reason = Posix.errnoText()
        return "cannot write \(existing) (\(reason)), where each new merge of \(output) is built before it is renamed into place: make \(existing) writable (under systemd: ReadWritePaths=\(existing); a layout such as output /srv/mwad/NAME/merged with ReadWritePaths=/srv/mwad/NAME)"
    }
}

/// The mount points of this process's mount namespace (`/proc/self/mountinfo`).
public enum MountTable {
    public static func mountPoints(_ mountinfo: String = "/proc/self/mountinfo") -> Set<String> {
        guard let text = try? String(contentsOfFile: mountinfo, encoding: .utf8) else { return [] }
        return Set(text.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ")
            return fields.count > 4 ? unescape(String(fields[4])) : nil
        })
    }

    /// mountinfo writes space, tab, newline and backslash as octal escapes (`\040`).
    static func unescape(_ field: String) -> String {
        var result = ""
        var rest = Substring(field)
        while let slash = rest.firstIndex(of: "\\") {
            result += rest[..<slash]
            let digits = rest[rest.index(after: slash)...].prefix(3)
            if digits.count == 3, let code = UInt8(digits, radix: 8) {
                result.unicodeScalars.append(Unicode.Scalar(code))
                rest = rest[rest.index(slash, offsetBy: 4)...]
            } else {
                result += "\\"
                rest = rest[rest.index(after: slash)...]
            }
        }
        return result + rest
    }
}
