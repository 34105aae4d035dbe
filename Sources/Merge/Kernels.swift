import SafeTensors

/// One term of a weighted sum: a tensor's raw little-endian elements and its weight.
struct Term {
    var base: UnsafeRawPointer
    var dtype: DType
    var weight: Double
}

/// The inner loops of a merge, on plain pointers so that the compiler vectorizes them.
/// safetensors is little-endian, like every platform mwad runs on; data of a valid
/// file written by PyTorch or mwad is aligned to its element size, and the unaligned
/// case falls back to unaligned loads.
enum Kernels {
    /// acc[0..<count] = Σ_t w_t · x_t[offset..<offset+count], in F32.
    static func combine(_ terms: [Term], offset: Int, count: Int, into acc: UnsafeMutablePointer<Float>) {
        for (index, term) in terms.enumerated() {
            let weight = Float(term.weight)
            let first = index == 0
            switch term.dtype {
            case .f32: addF32(term.base + offset * 4, count, weight, acc, first)
            case .bf16: addBF16(term.base + offset * 2, count, weight, acc, first)
            case .f16: addF16(term.base + offset * 2, count, weight, acc, first)
            case .f64: addF64AsF32(term.base + offset * 8, count, term.weight, acc, first)
            }
        }
    }

    /// acc[0..<count] = Σ_t w_t · x_t[offset..<offset+count], in F64.
    static func combine(_ terms: [Term], offset: Int, count: Int, into acc: UnsafeMutablePointer<Double>) {
        for (index, term) in terms.enumerated() {
            let first = index == 0
            let w = term.weight
            switch term.dtype {
            case .f64:
                let source = term.base + offset * 8
                if Int(bitPattern: source) % 8 == 0 {
                    let x = source.assumingMemoryBound(to: Double.self)
                    if first { for i in 0..<count { acc[i] = w * x[i] } } else { for i in 0..<count { acc[i] += w * x[i] } }
                } else {
                    for i in 0..<count { acc[i] = (first ? 0 : acc[i]) + w * source.loadUnaligned(fromByteOffset: i * 8, as: Double.self) }
                }
            case .f32:
                let source = term.base + offset * 4
                if Int(bitPattern: source) % 4 == 0 {
                    let x = source.assumingMemoryBound(to: Float.self)
                    if first { for i in 0..<count { acc[i] = w * Double(x[i]) } } else { for i in 0..<count { acc[i] += w * Double(x[i]) } }
                } else {
                    for i in 0..<count { acc[i] = (first ? 0 : acc[i]) + w * Double(source.loadUnaligned(fromByteOffset: i * 4, as: Float.self)) }
                }
            case .bf16:
                let source = term.base + offset * 2
                for i in 0..<count {
                    let bits = source.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self)
                    acc[i] = (first ? 0 : acc[i]) + w * Double(Float(bitPattern: UInt32(bits) << 16))
                }
            case .f16:
                let source = term.base + offset * 2
                for i in 0..<count { acc[i] = (first ? 0 : acc[i]) + w * Double(source.loadUnaligned(fromByteOffset: i * 2, as: Float16.self)) }
            }
        }
    }

    @inline(__always)
    private static func addF32(_ source: UnsafeRawPointer, _ count: Int, _ w: Float, _ acc: UnsafeMutablePointer<Float>, _ first: Bool) {
        if Int(bitPattern: source) % 4 == 0 {
            let x = source.assumingMemoryBound(to: Float.self)
            if first { for i in 0..<count { acc[i] = w * x[i] } } else { for i in 0..<count { acc[i] += w * x[i] } }
        } else {
            for i in 0..<count { acc[i] = (first ? 0 : acc[i]) + w * source.loadUnaligned(fromByteOffset: i * 4, as: Float.self) }
        }
    }

    @inline(__always)
    private static func addBF16(_ source: UnsafeRawPointer, _ count: Int, _ w: Float, _ acc: UnsafeMutablePointer<Float>, _ first: Bool) {
        if Int(bitPattern: source) % 2 == 0 {
            let x = source.assumingMemoryBound(to: UInt16.self)
            if first {
                for i in 0..<count { acc[i] = w * Float(bitPattern: UInt32(x[i]) << 16) }
            } else {
                for i in 0..<count { acc[i] += w * Float(bitPattern: UInt32(x[i]) << 16) }
            }
        } else {
            for i in 0..<count {
                let bits = source.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self)
                acc[i] = (first ? 0 : acc[i]) + w * Float(bitPattern: UInt32(bits) << 16)
            }
        }
    }

    @inline(__always)
    private static func addF16(_ source: UnsafeRawPointer, _ count: Int, _ w: Float, _ acc: UnsafeMutablePointer<Float>, _ first: Bool) {
        for i in 0..<count {
            acc[i] = (first ? 0 : acc[i]) + w * Float(source.loadUnaligned(fromByteOffset: i * 2, as: Float16.self))
        }
    }

    @inline(__always)
    private static func addF64AsF32(_ source: UnsafeRawPointer, _ count: Int, _ w: Double, _ acc: UnsafeMutablePointer<Float>, _ first: Bool) {
        for i in 0..<count {
            acc[i] = (first ? 0 : acc[i]) + Float(w * source.loadUnaligned(fromByteOffset: i * 8, as: Double.self))
        }
    }

    /// Whether all `count` values are finite (one pass, no early exit: vectorizes).
    static func allFinite(_ values: UnsafePointer<Float>, _ count: Int) -> Bool {
        var bad: UInt32 = 0
        let bits = UnsafeRawPointer(values).assumingMemoryBound(to: UInt32.self)
        for i in 0..<count { bad |= (bits[i] & 0x7F80_0000) == 0x7F80_0000 ? 1 : 0 }
        return bad == 0
    }

    static func allFinite(_ values: UnsafePointer<Double>, _ count: Int) -> Bool {
        var bad: UInt64 = 0
        let bits = UnsafeRawPointer(values).assumingMemoryBound(to: UInt64.self)
        for i in 0..<count { bad |= (bits[i] & 0x7FF0_0000_0000_0000) == 0x7FF0_0000_0000_0000 ? 1 : 0 }
        return bad == 0
    }

    /// Stores F32 `values` (times `scale`) as `dtype`, rounding to nearest, ties to even.
    static func encode(_ values: UnsafePointer<Float>, _ count: Int, as dtype: DType, into out: UnsafeMutableRawPointer) {
        switch dtype {
        case .f32: out.copyMemory(from: values, byteCount: count * 4)
        case .bf16:
            let o = out.assumingMemoryBound(to: UInt16.self)
            for i in 0..<count { o[i] = BFloat16.bits(from: values[i]) }
        case .f16:
            for i in 0..<count { out.storeBytes(of: Float16(values[i]), toByteOffset: i * 2, as: Float16.self) }
        case .f64:
            for i in 0..<count { out.storeBytes(of: Double(values[i]), toByteOffset: i * 8, as: Double.self) }
        }
    }

    /// Stores F64 `values` × `scale` as `dtype` (F32, F16, BF16 via F32).
    static func encode(_ values: UnsafePointer<Double>, _ count: Int, scale: Double, as dtype: DType, into out: UnsafeMutableRawPointer) {
        switch dtype {
        case .f64: for i in 0..<count { out.storeBytes(of: values[i] * scale, toByteOffset: i * 8, as: Double.self) }
        case .f32:
            let o = out.assumingMemoryBound(to: Float.self)  // the workspace's output is 64-byte aligned
            for i in 0..<count { o[i] = Float(values[i] * scale) }
        case .bf16: for i in 0..<count { out.storeBytes(of: BFloat16.bits(from: Float(values[i] * scale)), toByteOffset: i * 2, as: UInt16.self) }
        case .f16: for i in 0..<count { out.storeBytes(of: Float16(values[i] * scale), toByteOffset: i * 2, as: Float16.self) }
        }
    }
}
