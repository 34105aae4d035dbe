import Foundation
import Synchronization
import TensorBoard

/// torchtune's `DiskLogger` files, `logs/log_<unixtime>.txt`: one line per step,
///
///     Step 40 | loss:4.184412479400635 lr:0.03 tokens_per_second_per_gpu:580.08
///
/// read as they grow: only whole lines (a line being written waits), each file from
/// where the last read stopped. A line that is not of this form is reported once and
/// passed over.
public final class DiskLog: Sendable {
    private struct State {
        var offsets: [String: UInt64] = [:]
        var points: [ScalarLog.Point] = []
    }

    /// The folder holding the `log_*.txt` files.
    public let directory: String
    /// The key read (`loss`).
    public let key: String
    private let state = Mutex(State())

    public init(directory: String, key: String) {
        self.directory = directory
        self.key = key
    }

    /// The log files in `directory`, oldest first (their names hold the start time).
    public static func files(in directory: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
            .filter { $0.hasPrefix("log_") && $0.hasSuffix(".txt") }.sorted().map { "\(directory)/\($0)" }
    }

    /// Reads the lines appended since the last call; returns the problems met in them.
    @discardableResult
    public func refresh() -> [String] {
        state.withLock { state in
            var problems: [String] = []
            for path in Self.files(in: directory) {
                guard let handle = FileHandle(forReadingAtPath: path) else {
                    problems.append("cannot read \(path): \(String(cString: strerror(errno)))")
                    continue
                }
                defer { try? handle.close() }
                var offset = state.offsets[path] ?? 0
                try? handle.seek(toOffset: offset)
                let data = (try? handle.readToEnd()) ?? Data()
                guard let lastNewline = data.lastIndex(of: UInt8(ascii: "\n")) else { continue }
                let whole = data[data.startIndex...lastNewline]
                var lineNumber = 0
                for line in whole.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).dropLast() {
                    lineNumber += 1
                    let text = String(decoding: line, as: UTF8.self)
                    if text.trimmingCharacters(in: .whitespaces).isEmpty { continue }
                    if let point = Self.parse(text, key: key) {
                        state.points.append(point)
                    } else if !text.hasPrefix("Step ") {
                        problems.append("\(path): '\(text.prefix(80))' is not a DiskLogger line (Step N | key:value …); passed over")
                    }
                }
                offset += UInt64(whole.count)
                state.offsets[path] = offset
            }
            return problems
        }
    }

    /// The value of `key` in one line, with its step; nil where the line has none.
    static func parse(_ line: String, key: String) -> ScalarLog.Point? {
        let parts = line.split(separator: "|", maxSplits: 1)
        guard parts.count == 2, let step = Int64(parts[0].trimmingCharacters(in: .whitespaces).dropFirst("Step ".count)),
              parts[0].hasPrefix("Step ") else { return nil }
        for field in parts[1].split(separator: " ") {
            let pair = field.split(separator: ":", maxSplits: 1)
            if pair.count == 2, pair[0] == key, let value = Double(pair[1]) {
                return ScalarLog.Point(step: step, value: value, wallTime: 0)
            }
        }
        return nil
    }

    /// Every value read so far, by step (of two at one step, the later line).
    public var points: [ScalarLog.Point] {
        state.withLock { state in
            var byStep: [Int64: ScalarLog.Point] = [:]
            for point in state.points { byStep[point.step] = point }
            return byStep.values.sorted { $0.step < $1.step }
        }
    }
}
