import Foundation

/// Timing and memory measurements.
enum Measure {
    /// Median seconds of `repeats` runs of `body` (after `prepare` each time, and a
    /// sync so that no run pays for the writeback of the one before: untimed).
    static func median(_ repeats: Int, prepare: () throws -> Void = {}, _ body: () throws -> Void) rethrows -> Double {
        var times: [Double] = []
        for _ in 0..<repeats {
            try prepare()
            sync()
            let start = DispatchTime.now().uptimeNanoseconds
            try body()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        return times.sorted()[times.count / 2]
    }

    /// Runs a command; returns its seconds and its standard output.
    @discardableResult
    static func run(_ arguments: [String], environment: [String: String]? = nil) throws -> (seconds: Double, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        if let environment { process.environment = environment }
        let pipe = Pipe()
        process.standardOutput = pipe
        let start = DispatchTime.now().uptimeNanoseconds
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        guard process.terminationStatus == 0 else { throw BenchError("\(arguments.joined(separator: " ")) failed") }
        return (seconds, String(decoding: data, as: UTF8.self))
    }

    /// Peak RssAnon and peak RSS (MiB) of a child process, sampled every millisecond
    /// from /proc (the kernel keeps a peak for RSS, VmHWM, but not for RssAnon).
    static func peakMemory(_ arguments: [String]) throws -> (anon: Double, rss: Double, seconds: Double) {
        sync()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: arguments[0])
        process.arguments = Array(arguments.dropFirst())
        let start = DispatchTime.now().uptimeNanoseconds
        try process.run()
        var anon = 0.0, rss = 0.0
        while process.isRunning {
            if let status = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8) {
                anon = max(anon, field(status, "RssAnon"))
                rss = max(rss, field(status, "VmHWM"))
            }
            usleep(1000)
        }
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw BenchError("\(arguments.joined(separator: " ")) failed") }
        return (anon, rss, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }

    /// A `Name:   1234 kB` field of /proc/PID/status, in MiB.
    static func field(_ status: String, _ name: String) -> Double {
        for line in status.split(separator: "\n") where line.hasPrefix(name + ":") {
            let digits = line.split(separator: " ").dropFirst().first.flatMap { Double($0) } ?? 0
            return digits / 1024
        }
        return 0
    }

    /// CPU seconds (user + system) a process has used, from /proc/PID/stat.
    static func cpuSeconds(_ pid: Int32) -> Double {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return 0 }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        let ticks = (Double(fields[11]) ?? 0) + (Double(fields[12]) ?? 0)  // utime, stime
        return ticks / Double(sysconf(Int32(_SC_CLK_TCK)))
    }
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
