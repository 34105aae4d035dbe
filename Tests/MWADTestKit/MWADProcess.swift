import Foundation

/// Runs the built `mwad` executable as a child process, as a user would.
public struct MWADProcess {
    public struct Result: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
    }

    /// The `mwad` binary next to the test bundle in the build folder.
    public static let executable: String = {
        var folder = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = folder.appendingPathComponent("mwad").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            folder.deleteLastPathComponent()
        }
        fatalError("mwad executable not found near \(CommandLine.arguments[0]); run `swift build` first")
    }()

    /// The environment child processes get: this process's, with `XDG_STATE_HOME` in a
    /// temporary folder, so that no test leaves state in the real home.
    public static let environment: [String: String] = {
        ProcessInfo.processInfo.environment.merging(["XDG_STATE_HOME": stateHome.path]) { $1 }
    }()

    private static let stateHome = TemporaryDirectory("mwad-state-home")

    /// `environment` with `XDG_STATE_HOME` pointed away from the real home unless it is set.
    public static func isolated(_ environment: [String: String]) -> [String: String] {
        environment["XDG_STATE_HOME"] == nil ? environment.merging(["XDG_STATE_HOME": stateHome.path]) { $1 } : environment
    }

    /// Runs `mwad arguments…` to completion and captures its output (through files,
    /// so that no pipe can fill up and block the child).
    public static func run(_ arguments: [String], environment: [String: String]? = nil,
                           executable: String = MWADProcess.executable, stdin: String? = nil) throws -> Result {
        let scratch = TemporaryDirectory("mwad-process")
        _ = FileManager.default.createFile(atPath: scratch.file("out"), contents: nil)
        _ = FileManager.default.createFile(atPath: scratch.file("err"), contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = environment.map(isolated) ?? Self.environment
        if let stdin { process.standardInput = try FileHandle(forReadingFrom: URL(fileURLWithPath: stdin)) }
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: scratch.file("out")))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: scratch.file("err")))
        try process.run()
        process.waitUntilExit()
        return Result(status: process.terminationStatus,
                      stdout: try String(contentsOfFile: scratch.file("out"), encoding: .utf8),
                      stderr: try String(contentsOfFile: scratch.file("err"), encoding: .utf8))
    }
}
