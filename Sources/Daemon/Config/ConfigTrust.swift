import Foundation
import HostFileSystem
import Ingest

/// A configuration file that names a program to run (`eval.command`, `hook.on_merge`)
/// is only read when no one but its owner can change it, as sshd's StrictModes has it:
/// the file is not group- or world-writable and is owned by root or the user mwad runs
/// as, and no folder on its path is writable by others without the sticky bit (`/tmp`
/// is fine). Anyone who could write it could run commands as mwad's user.
enum ConfigTrust {
    /// Why `file` cannot be trusted with commands (what to do included); nil when it can.
    static func problem(_ file: String, commandKeys: [String], user: uid_t = geteuid()) -> String? {
        let path = URL(fileURLWithPath: RunDirectory.absolute(file)).resolvingSymlinksInPath().path
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }  // reading it failed already, with its own error
        let mode = info.st_mode & 0o7777
        let names = commandKeys.joined(separator: " and ")
        if mode & UInt32(S_IWGRP | S_IWOTH) != 0 {
            return "names a command (\(names)) but is writable by \(mode & UInt32(S_IWOTH) != 0 ? "anyone" : "its group") (mode \(octal(mode)), owner \(Posix.userName(of: info.st_uid))): "
                + "anyone who can change it can run programs as \(Posix.userName(of: user)); make it writable by its owner only (chmod go-w \(path))"
        }
        if info.st_uid != 0 && info.st_uid != user {
            return "names a command (\(names)) but is owned by \(Posix.userName(of: info.st_uid)), not by root or \(Posix.userName(of: user)), the user mwad runs as "
                + "(mode \(octal(mode))): that user can run programs as \(Posix.userName(of: user)); give it to root or \(Posix.userName(of: user)) (chown)"
        }
        var folder = (path as NSString).deletingLastPathComponent
        while !folder.isEmpty {
            var dir = stat()
            if stat(folder, &dir) == 0 {
                let bits = dir.st_mode & 0o7777
                if bits & UInt32(S_IWGRP | S_IWOTH) != 0 && bits & UInt32(S_ISVTX) == 0 {
                    return "names a command (\(names)) but its folder \(folder) is writable by \(bits & UInt32(S_IWOTH) != 0 ? "anyone" : "its group") without the sticky bit "
                        + "(mode \(octal(bits)), owner \(Posix.userName(of: dir.st_uid))): anyone there can replace the file; chmod go-w \(folder), or keep the config elsewhere"
                }
            }
            if folder == "/" { break }
            folder = (folder as NSString).deletingLastPathComponent
        }
        return nil
    }

    private static func octal(_ mode: UInt32) -> String { "0" + String(mode, radix: 8) }
}
