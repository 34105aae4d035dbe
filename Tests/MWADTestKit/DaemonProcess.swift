import Foundation

/// `mwad run` as a child process, with its stderr captured to a file.
public final class DaemonProcess: @unchecked Sendable {
    public let process = Process()
    public let logPath: String
    private let scratch = TemporaryDirectory("mwad-daemon-log")

    /// The user an unprivileged daemon runs as when the tests run as root (`nobody`),
    /// so that file permissions apply to it.
    public static let unprivilegedID: UInt32 = 65534

    /// Starts `mwad run arguments…`. With `unprivileged`, a root test process starts it
    /// through `setpriv` as ``unprivilegedID`` (others start it as themselves).
    /// `launcher`, when given, is a command that runs the rest of its arguments (such
    /// as `prlimit --fsize=…`).
    public init(_ arguments: [String], environment: [String: String] = [:], unprivileged: Bool = false,
                launcher: [String] = []) throws {
        logPath = scratch.file("stderr")
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        var command = launcher
        if unprivileged && geteuid() == 0 {
            let id = "\(Self.unprivilegedID)"
            command += ["/usr/bin/setpriv", "--reuid=\(id)", "--regid=\(id)", "--clear-groups"]
        }
        command += [MWADProcess.executable, "run"] + arguments
        process.executableURL = URL(fileURLWithPath: command[0])
        process.arguments = Array(command.dropFirst())
        process.environment = MWADProcess.environment.merging(environment) { $1 }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        try process.run()
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    /// Everything it logged so far.
    public var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// Waits (at most `timeout` seconds) until `condition` holds; returns whether it did.
    @discardableResult
    public static func waitUntil(timeout: Double = 60, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition() { return true }
            usleep(50_000)
        }
        return condition()
    }

    /// Waits until the log contains `text`.
    @discardableResult
    public func waitForLog(_ text: String, timeout: Double = 60) -> Bool {
        Self.waitUntil(timeout: timeout) { log.contains(text) }
    }

    /// Sends `signal` and waits for the exit; returns the exit status (nil if it did
    /// not exit within `timeout`).
    public func stop(signal: Int32 = SIGTERM, timeout: Double = 30) -> Int32? {
        kill(process.processIdentifier, signal)
        guard Self.waitUntil(timeout: timeout, { !process.isRunning }) else { return nil }
        return process.terminationReason == .exit ? process.terminationStatus : -process.terminationStatus
    }
}
