import SafeTensors

/// Reads and writes tensor elements of each dtype as floating-point numbers.
/// safetensors is little-endian, like every platform mwad runs on.
enum ElementCodec {
    /// acc[i] += weight · x[i] for the elements of `bytes`.
    static func accumulate<T: BinaryFloatingPoint>(_ bytes: UnsafeRawBufferPointer, as dtype: DType, weight: T,
                                                   into acc: UnsafeMutableBufferPointer<T>) {
        switch dtype {
        case .f32: for i in acc.indices { acc[i] += weight * T(bytes.loadUnaligned(fromByteOffset: i * 4, as: Float.self)) }
        case .f64: for i in acc.indices { acc[i] += weight * T(bytes.loadUnaligned(fromByteOffset: i * 8, as: Double.self)) }
        case .f16: for i in acc.indices { acc[i] += weight * T(bytes.loadUnaligned(fromByteOffset: i * 2, as: Float16.self)) }
        case .bf16:
            for i in acc.indices {
                acc[i] += weight * T(BFloat16.float(fromBits: bytes.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self)))
            }
        }
    }

    /// Stores `values` as `dtype`, rounding to nearest, ties to even.
    static func encode<T: BinaryFloatingPoint>(_ values: UnsafeBufferPointer<T>, as dtype: DType,
                                               into out: UnsafeMutableRawBufferPointer) {
        switch dtype {
        case .f32: for i in values.indices { out.storeBytes(of: Float(values[i]), toByteOffset: i * 4, as: Float.self) }
        case .f64: for i in values.indices { out.storeBytes(of: Double(values[i]), toByteOffset: i * 8, as: Double.self) }
        case .f16: for i in values.indices { out.storeBytes(of: Float16(values[i]), toByteOffset: i * 2, as: Float16.self) }
        case .bf16:
            for i in values.indices {
                out.storeBytes(of: BFloat16.bits(from: Float(values[i])), toByteOffset: i * 2, as: UInt16.self)
            }
        }
    }

    /// Whether every element of `bytes` is finite.
    static func allFinite(_ bytes: UnsafeRawBufferPointer, as dtype: DType) -> Bool {
        let count = bytes.count / dtype.size
        return (0..<count).allSatisfy { i in
            switch dtype {
            case .f32: bytes.loadUnaligned(fromByteOffset: i * 4, as: Float.self).isFinite
            case .f64: bytes.loadUnaligned(fromByteOffset: i * 8, as: Double.self).isFinite
            case .f16: bytes.loadUnaligned(fromByteOffset: i * 2, as: Float16.self).isFinite
            case .bf16: BFloat16.float(fromBits: bytes.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self)).isFinite
            }
        }
    }
}
