/// Conversions between BF16 bit patterns and Float.
///
/// BF16 is the top half of an IEEE binary32; widening is exact, narrowing rounds to
/// nearest, ties to even, as PyTorch does.
public enum BFloat16 {
    /// The Float a BF16 bit pattern stands for (exact).
    @inlinable
    public static func float(fromBits bits: UInt16) -> Float {
        Float(bitPattern: UInt32(bits) << 16)
    }

    /// The BF16 bit pattern nearest to `value` (ties to even); NaN stays a quiet NaN.
    @inlinable
    public static func bits(from value: Float) -> UInt16 {
        let pattern = value.bitPattern
        if value.isNaN { return UInt16(truncatingIfNeeded: pattern >> 16) | 0x0040 }
        let roundingBias = UInt32(0x7FFF) + ((pattern >> 16) & 1)
        return UInt16(truncatingIfNeeded: (pattern &+ roundingBias) >> 16)
    }
}
