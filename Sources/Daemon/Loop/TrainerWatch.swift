import Foundation

/// The trainer process whose end ends the daemon (`mwad run --until-pid PID`): when it
/// is gone (exited, crashed, killed), the daemon makes its final merge and evaluation
/// and stops, so that no daemon outlives its training. Polled from a thread of its
/// own: `/proc/PID/stat` tells a zombie (exited, not yet reaped by its parent) from a
/// live process, and its start time a reused PID from the trainer.
final class TrainerWatch: Sendable {
    let pid: Int32
    private let startTime: String?

    init(pid: Int32) {
        self.pid = pid
        startTime = Self.stat(pid)?.startTime
    }

    /// Whether the process that had `pid` when this watch began still runs.
    var isAlive: Bool {
        guard let now = Self.stat(pid) else {
            // No /proc (or it is hidden): the process exists while kill(0) finds it.
            return startTime == nil && (kill(pid, 0) == 0 || errno == EPERM)
        }
        return now.state != "Z" && now.state != "X" && (startTime == nil || now.startTime == startTime)
    }

    /// Calls `exited` once, from another thread, when the process is gone.
    func start(interval: Double = 0.2, exited: @escaping @Sendable () -> Void) {
        Thread { [self] in
            while isAlive { usleep(UInt32(interval * 1_000_000)) }
            exited()
        }.start()
    }

    /// The state (field 3) and start time (field 22) of `/proc/PID/stat`.
    static func stat(_ pid: Int32) -> (state: String, startTime: String)? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 19 else { return nil }
        return (String(fields[0]), String(fields[19]))
    }
}
