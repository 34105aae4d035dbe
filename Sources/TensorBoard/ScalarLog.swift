import Foundation
import SwiftProtobuf
import Synchronization

/// One tag's scalar values in the event files under a run's log folder, read as the
/// files grow: each file from where the last read stopped, one record at a time (an
/// event file of any size is read in one pass without being held in memory).
///
/// A record still being written is waited for; a record whose data fails its checksum
/// is skipped, and one whose length fails it ends the reading of that file. Either is
/// reported once, by ``refresh()``.
public final class ScalarLog: Sendable {
    /// A value and the step it was logged at.
    public struct Point: Sendable, Equatable {
        public var step: Int64
        public var value: Double
        public var wallTime: Double

        public init(step: Int64, value: Double, wallTime: Double) {
            self.step = step
            self.value = value
            self.wallTime = wallTime
        }
    }

    private struct FileState {
        var offset: UInt64 = 0
        /// A bad length checksum: the rest of the file cannot be framed.
        var stopped = false
    }

    private struct State {
        var files: [String: FileState] = [:]
        var points: [Point] = []
    }

    /// The folder searched (recursively) for `events.out.tfevents.*` files.
    public let directory: String
    /// The summary tag read.
    public let tag: String
    private let state = Mutex(State())

    public init(directory: String, tag: String) {
        self.directory = directory
        self.tag = tag
    }

    /// Reads what the event files gained since the last call. Returns the problems
    /// found in this call (each bad record is reported once, when first met).
    @discardableResult
    public func refresh() -> [String] {
        state.withLock { state in
            var problems: [String] = []
            for path in Self.eventFiles(under: directory) {
                var file = state.files[path] ?? FileState()
                guard !file.stopped else { continue }
                do throws(TensorBoardError) {
                    let reader = try RecordReader(path: path)
                    read: while true {
                        switch try reader.next(at: file.offset) {
                        case .incomplete: break read
                        case .record(let data, let end):
                            if let point = point(in: data) { state.points.append(point) }
                            file.offset = end
                        case .badData(let offset, let end):
                            problems.append("\(path): the record at byte \(offset) fails its CRC-32C; it is skipped")
                            file.offset = end
                        case .badLength(let offset):
                            problems.append("\(path): the record length at byte \(offset) fails its CRC-32C; the rest of the file is not read")
                            file.stopped = true
                            break read
                        }
                    }
                } catch {
                    problems.append(error.description)
                }
                state.files[path] = file
            }
            return problems
        }
    }

    /// Every value read so far, by step; of two logged at one step, the later one.
    public var points: [Point] {
        state.withLock { state in
            var byStep: [Int64: Point] = [:]
            for point in state.points where byStep[point.step].map({ $0.wallTime <= point.wallTime }) ?? true {
                byStep[point.step] = point
            }
            return byStep.values.sorted { $0.step < $1.step }
        }
    }

    /// The newest value logged at or before `step`.
    public func value(atOrBefore step: Int64) -> Point? {
        points.last { $0.step <= step }
    }

    private func point(in data: Data) -> Point? {
        guard let event = try? Tensorboard_Event(serializedBytes: data), case .summary(let summary)? = event.what else { return nil }
        for value in summary.value where value.tag == tag {
            if let number = ScalarValue.of(value) { return Point(step: event.step, value: number, wallTime: event.wallTime) }
        }
        return nil
    }

    /// The event files under `directory`, in name order (their names start with the
    /// time they were opened).
    static func eventFiles(under directory: String) -> [String] {
        guard let walker = FileManager.default.enumerator(atPath: directory) else { return [] }
        var found: [String] = []
        while let relative = walker.nextObject() as? String {
            if (relative as NSString).lastPathComponent.contains("tfevents") { found.append("\(directory)/\(relative)") }
        }
        return found.sorted()
    }
}
