import Foundation

/// Whether a window update goes through the running sum or merges the window afresh,
/// by what each costs: bytes read from the page cache, plus bytes written, weighted by
/// what writing costs against reading (both updates stream; the members are usually
/// warm in the page cache).
///
/// With A the adapter's size, S the saved sum's (F64: 2A for F32 adapters) and W the
/// window: an update through the sum reads S and the members entering and leaving,
/// writes S (not fsynced: a checksum guards it) and the merge (fsynced); a full merge
/// reads the W members and writes the merge. With F32 adapters, one in and one out,
/// the sum costs 4A + 4·2A + 7·A = 19A against W·A + 7·A: the full merge up to a
/// window of 12, the sum from 13 on.
public enum RunningSumPolicy: String, Sendable, CaseIterable {
    /// The cheaper of the two, per update.
    case auto
    /// Always the running sum (exact recomputation every `merge.recompute_every`).
    case always
    /// Always a full merge; no sum is kept.
    case never

    /// What writing a byte to the page cache costs, in bytes read from it; and writing
    /// it and fsyncing it. `mwad-bench` on 2 cores (docs/PERFORMANCE.md) measured warm
    /// reads at about 12 GB/s, writes at about 3 GB/s, and writes with fsync at about
    /// 1.7 GB/s (full merges of 5 and 20, and the update through the sum).
    public static let writeWeight: Int64 = 4
    public static let durableWriteWeight: Int64 = 7

    /// The cost of an update through the sum; `previous` is false when the saved sum
    /// cannot be used and must be recomputed from the whole window.
    public static func sumCost(window: Int, adding: Int, removing: Int, adapter: Int64, sum: Int64, previous: Bool) -> Int64 {
        let read = previous ? sum + Int64(adding + removing) * adapter : Int64(window) * adapter
        return read + writeWeight * sum + durableWriteWeight * adapter
    }

    public static func fullCost(window: Int, adapter: Int64) -> Int64 { Int64(window) * adapter + durableWriteWeight * adapter }

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
