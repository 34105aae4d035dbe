import Foundation

/// Whether a window update goes through the running sum or merges the window afresh,
/// by the bytes each must touch (what decides their time: both are I/O-bound streams).
///
/// With A the adapter's size, S the saved sum's (F64: 2A for F32 adapters) and W the
/// window, an update through the sum reads and rewrites the sum and reads the members
/// entering and leaving: 2S + (adding + removing)·A, plus the merge written (A). A full
/// merge reads the window and writes the merge: (W + 1)·A. At W = 5 with F32 the full
/// merge is cheaper (6A against 7A); at W = 20, the sum (7A against 21A).
public enum RunningSumPolicy: String, Sendable, CaseIterable {
    /// The cheaper of the two, per update.
    case auto
    /// Always the running sum (exact recomputation every `merge.recompute_every`).
    case always
    /// Always a full merge; no sum is kept.
    case never

    /// Bytes an update through the sum touches; `previous` is false when the saved sum
    /// cannot be used and must be recomputed from the whole window.
    public static func sumBytes(window: Int, adding: Int, removing: Int, adapter: Int64, sum: Int64, previous: Bool) -> Int64 {
        previous ? 2 * sum + Int64(adding + removing) * adapter + adapter : Int64(window) * adapter + sum + adapter
    }

    public static func fullBytes(window: Int, adapter: Int64) -> Int64 { Int64(window + 1) * adapter }

    /// Whether this update goes through the running sum.
    public func useSum(window: Int, adding: Int, removing: Int, adapter: Int64, sum: Int64, previous: Bool) -> Bool {
        switch self {
        case .always: return true
        case .never: return false
        case .auto:
            // Without a usable saved sum, one is made only if later updates through it
            // (one checkpoint in, one out) will be cheaper than full merges.
            let steady = Self.sumBytes(window: window, adding: 1, removing: 1, adapter: adapter, sum: sum, previous: true)
            let full = Self.fullBytes(window: window, adapter: adapter)
            guard previous else { return steady < full }
            return Self.sumBytes(window: window, adding: adding, removing: removing, adapter: adapter, sum: sum, previous: true) < full
        }
    }
}
