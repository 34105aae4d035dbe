/// A fast checksum of a saved window sum, so that the sum need not be fsynced at
/// each update: after a power cut, a sum whose data did not reach the disk (zeroed or
/// stale blocks) fails the check and is recomputed exactly from the window.
///
/// Fletcher-style over 64-bit little-endian words in eight lanes (a final partial
/// 64-byte block zero-padded): `a` sums the words, `b` sums the running `a`s, so a
/// block lost, zeroed or moved changes it. Not a defence against tampering; SHA-256
/// would cost more than the fsync it replaces.
public struct SumChecksum: Equatable, Sendable {
    /// Eight lanes of 64-bit words, one vector add each: as fast as memory reads.
    private var a = SIMD8<UInt64>()
    private var b = SIMD8<UInt64>()
    private var pending: [UInt8] = []
    private static let block = 64

    public init() {}

    /// The checksum of a whole buffer.
    public init(of bytes: UnsafeRawBufferPointer) {
        update(bytes)
    }

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        var rest = bytes
        if !pending.isEmpty {
            let take = min(Self.block - pending.count, rest.count)
            pending += rest.prefix(take)
            rest = UnsafeRawBufferPointer(rebasing: rest.dropFirst(take))
            guard pending.count == Self.block else { return }
            pending.withUnsafeBytes { addBlocks($0.baseAddress!, 1) }
            pending = []
        }
        let blocks = rest.count / Self.block
        if let base = rest.baseAddress, blocks > 0 { addBlocks(base, blocks) }
        pending = Array(rest.suffix(rest.count - blocks * Self.block))
    }

    /// The value, as 32 hex digits: the lanes folded with distinct odd factors, so
    /// that a change in any lane shows.
    public var hex: String {
        var copy = self
        if !copy.pending.isEmpty {
            let padded = copy.pending + [UInt8](repeating: 0, count: Self.block - copy.pending.count)
            padded.withUnsafeBytes { copy.addBlocks($0.baseAddress!, 1) }
        }
        let factors = SIMD8<UInt64>(1, 3, 5, 7, 9, 11, 13, 15)
        return Self.hex((copy.a &* factors).wrappedSum()) + Self.hex((copy.b &* factors).wrappedSum())
    }

    private mutating func addBlocks(_ base: UnsafeRawPointer, _ count: Int) {
        var a = self.a, b = self.b
        for i in 0..<count {
            // safetensors and every platform mwad runs on are little-endian.
            a &+= base.loadUnaligned(fromByteOffset: i * Self.block, as: SIMD8<UInt64>.self)
            b &+= a
        }
        self.a = a
        self.b = b
    }

    private static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
