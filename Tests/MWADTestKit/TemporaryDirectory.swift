import Foundation

/// A fresh folder under the system's temporary directory, removed when released.
public final class TemporaryDirectory: @unchecked Sendable {
    public let path: String

    public init(_ label: String = "mwad-test") {
        let base = NSTemporaryDirectory() + "\(label)-\(UUID().uuidString.prefix(8))"
        try! FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        path = URL(fileURLWithPath: base).standardizedFileURL.path
    }

    deinit {
        // Tests may leave read-only files; make them writable so removal succeeds.
        _ = try? Process.run(URL(fileURLWithPath: "/bin/chmod"), arguments: ["-R", "u+rwx", path]).waitUntilExit()
        try? FileManager.default.removeItem(atPath: path)
    }

    /// `path/name`.
    public func file(_ name: String) -> String { "\(path)/\(name)" }

    /// Writes `bytes` to `path/name` and returns the full path.
    @discardableResult
    public func write(_ name: String, _ bytes: [UInt8]) -> String {
        let full = file(name)
        try! FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent,
                                                 withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: full, contents: Data(bytes))
        return full
    }

    /// Writes `text` as UTF-8 to `path/name`.
    @discardableResult
    public func write(_ name: String, _ text: String) -> String { write(name, Array(text.utf8)) }

    /// Copies the checkpoint folders of `run` at `steps` into `path/name/`, so that a
    /// test can break them; returns the new run directory.
    public func copyRun(_ run: String, steps: [Int], as name: String = "run") -> String {
        let target = file(name)
        try! FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
        for step in steps {
            try! FileManager.default.copyItem(atPath: Fixtures.checkpoint(run, step), toPath: "\(target)/checkpoint-\(step)")
        }
        _ = try? Process.run(URL(fileURLWithPath: "/bin/chmod"), arguments: ["-R", "u+w", target]).waitUntilExit()
        return target
    }

    /// Names of the entries in this folder, hidden ones included.
    public func entries() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted()
    }
}
