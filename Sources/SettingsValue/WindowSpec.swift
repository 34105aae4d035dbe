/// Which checkpoints a merge takes, counting back from the newest: at most `count`
/// of them (nil: all), only those within the last `steps` steps (`window_steps`), and
/// only every `stride`-th (LAWA's spacing).
public struct WindowSpec: Sendable, Hashable {
    /// At most this many members; nil for every checkpoint (`window: all`).
    public var count: Int?
    /// Only members whose step is ≥ the newest step − `steps`.
    public var steps: Int64?
    /// Every `stride`-th checkpoint counting back from the newest (1: each one).
    public var stride: Int

    public init(count: Int? = 5, steps: Int64? = nil, stride: Int = 1) {
        self.count = count
        self.steps = steps
        self.stride = stride
    }

    /// What one checkpoint, offered newest first, is to the window.
    public enum Decision: Equatable, Sendable {
        case take
        /// Passed over by the stride.
        case skip
        /// Past the window: nothing older is taken.
        case stop
    }

    /// Walks candidates newest first: call ``offer(_:)`` for each.
    public struct Selector: Sendable {
        let spec: WindowSpec
        var newest: Int64?
        var offered = 0
        public private(set) var taken = 0

        public init(_ spec: WindowSpec) { self.spec = spec }

        public mutating func offer(_ step: Int64) -> Decision {
            if let count = spec.count, taken >= count { return .stop }
            let newest = self.newest ?? step
            self.newest = newest
            if let steps = spec.steps, step < newest - steps { return .stop }
            defer { offered += 1 }
            guard offered % spec.stride == 0 else { return .skip }
            taken += 1
            return .take
        }
    }

    /// The indices of the members in `steps` (ascending), ascending.
    public func select(_ steps: [Int64]) -> [Int] {
        var selector = Selector(self)
        var chosen: [Int] = []
        for index in steps.indices.reversed() {
            switch selector.offer(steps[index]) {
            case .take: chosen.append(index)
            case .skip: continue
            case .stop: return chosen.reversed()
            }
        }
        return chosen.reversed()
    }

    /// The window in words: `the last 5`, `all`, `the last 5 within 100 steps, every 2nd`.
    public var summary: String {
        var text = count.map { "the last \($0)" } ?? "all"
        if let steps { text += " within \(steps) steps" }
        if stride > 1 { text += ", every \(Self.ordinal(stride))" }
        return text
    }

    static func ordinal(_ n: Int) -> String {
        let suffix = (11...13).contains(n % 100) ? "th" : [1: "st", 2: "nd", 3: "rd"][n % 10] ?? "th"
        return "\(n)\(suffix)"
    }
}
