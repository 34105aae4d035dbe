import Foundation

/// Whether a window update goes through the running sum or merges the window afresh,
/// by what each costs: bytes read, plus bytes written and fsynced, weighted by
/// ``writeWeight`` (both updates stream; the members are usually warm in the page cache).
///
/// With A the adapter's size, S the saved sum's (F64: 2A for F32 adapters) and W the
/// window: an update through the sum reads S and the members entering and leaving and
/// writes S and the merge; a full merge reads the W members and writes the merge. With
/// F32 adapters the sum costs 4A + 3A·k against W·A + k·A for the full merge: with
/// k = 8, the full merge up to a window of 20, the sum from 21 on.
public enum RunningSumPolicy: String, Sendable, CaseIterable {
    /// The cheaper of the two, per update.
    case auto
    /// Always the running sum (exact recomputation every `merge.recompute_every`).
    case always
    /// Always a full merge; no sum is kept.
    case never

    /// What writing and fsyncing a byte costs, in bytes read from the page cache:
    /// `mwad-bench` on 2 cores measured reads at about 10 GB/s and write + fsync at
    /// about 1 GB/s (docs/PERFORMANCE.md: a full merge of 20 took 0.49 s, the update
    /// through the sum 0.52 s).
    public static let writeWeight: Int64 = 8

    /// The cost of an update through the sum; `previous` is false when the saved sum
    /// cannot be used and must be recomputed from the whole window.
    public static func sumCost(window: Int, adding: Int, removing: Int, adapter: Int64, sum: Int64, previous: Bool) -> Int64 {
        let read = previous ? sum + Int64(adding + removing) * adapter : Int64(window) * adapter
        return read + writeWeight * (sum + adapter)
    }

    public static func fullCost(window: Int, adapter: Int64) -> Int64 { Int64(window) * adapter + writeWeight * adapter }

    /// Whether this update goes through the running sum.
    public func useSum(window: Int, adding: Int, removing: Int, adapter: Int64, sum: Int64, previous: Bool) -> Bool {
        switch self {
        case .always: return true
        case .never: return false
        case .auto:
            // Without a usable saved sum, one is made only if later updates through it
            // (one checkpoint in, one out) will be cheaper than full merges.
            let full = Self.fullCost(window: window, adapter: adapter)
            guard previous else {
                return Self.sumCost(window: window, adding: 1, removing: 1, adapter: adapter, sum: sum, previous: true) < full
            }
            return Self.sumCost(window: window, adding: adding, removing: removing, adapter: adapter, sum: sum, previous: true) < full
        }
    }
}
