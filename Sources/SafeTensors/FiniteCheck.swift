/// Whether tensor data holds only finite values (no NaN, no infinity).
public enum FiniteCheck {
    /// Whether every element of `bytes` (raw little-endian elements of `dtype`) is
    /// finite. One pass without early exit on aligned data, so that it vectorizes.
    public static func allFinite(_ bytes: UnsafeRawBufferPointer, as dtype: DType) -> Bool {
        let count = bytes.count / dtype.size
        guard let base = bytes.baseAddress, count > 0 else { return true }
        switch dtype {
        case .f32 where Int(bitPattern: base) % 4 == 0:
            // Exponent bits all set means NaN or ±inf.
            return noneHasAllBits(base.assumingMemoryBound(to: UInt32.self), count, mask: 0x7F80_0000)
        case .f64 where Int(bitPattern: base) % 8 == 0:
            return noneHasAllBits(base.assumingMemoryBound(to: UInt64.self), count, mask: 0x7FF0_0000_0000_0000)
        case .bf16 where Int(bitPattern: base) % 2 == 0:
            // BF16 is the top half of an F32.
            return noneHasAllBits(base.assumingMemoryBound(to: UInt16.self), count, mask: 0x7F80)
        case .f16 where Int(bitPattern: base) % 2 == 0:
            return noneHasAllBits(base.assumingMemoryBound(to: UInt16.self), count, mask: 0x7C00)
        default:
            return (0..<count).allSatisfy { i in
                switch dtype {
                case .f32: bytes.loadUnaligned(fromByteOffset: i * 4, as: Float.self).isFinite
                case .f64: bytes.loadUnaligned(fromByteOffset: i * 8, as: Double.self).isFinite
                case .f16: bytes.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self) & 0x7C00 != 0x7C00
                case .bf16: BFloat16.float(fromBits: bytes.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self)).isFinite
                }
            }
        }
    }

    private static func noneHasAllBits<T: FixedWidthInteger & UnsignedInteger>(_ values: UnsafePointer<T>, _ count: Int, mask: T) -> Bool {
        var bad: T = 0
        for i in 0..<count { bad |= (values[i] & mask) == mask ? 1 : 0 }
        return bad == 0
    }
}
