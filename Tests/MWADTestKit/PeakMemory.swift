import Foundation

/// The peak resident memory of a child process, read from its `/proc/<pid>/status`
/// (`VmHWM`, the high-water mark of its own memory since exec) every 2 ms while it
/// runs. Unlike `getrusage(RUSAGE_SELF)` in a test process that runs suites in
/// parallel, or `wait4`'s `ru_maxrss` (Linux folds the spawning process's high-water
/// mark into it at exec), nothing but the child counts. A peak just before exit can
/// be missed, so it errs low, never high.
public enum PeakMemory {
    /// Runs `mwad arguments…` (output discarded); its exit status and peak RSS in bytes.
    public static func of(mwad arguments: [String]) throws -> (status: Int32, bytes: Int) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: MWADProcess.executable)
        process.arguments = arguments
        process.environment = MWADProcess.environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        var peak = 0
        while process.isRunning {
            peak = max(peak, highWaterMark(of: process.processIdentifier) ?? 0)
            usleep(2_000)
        }
        process.waitUntilExit()
        return (process.terminationStatus, peak)
    }

    /// `VmHWM` of `pid` in bytes, nil once it is gone.
    static func highWaterMark(of pid: Int32) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
              let kib = Int(line.split(separator: " ").dropFirst().first ?? "") else { return nil }
        return kib * 1024
    }
}
