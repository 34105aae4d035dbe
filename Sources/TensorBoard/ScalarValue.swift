import Foundation

/// The number a summary value holds, when it holds one: an old-style `simple_value`,
/// or a new-style tensor summary of one element (`torch.utils.tensorboard` with
/// `new_style=True`, TensorFlow 2's `tf.summary.scalar`) in any numeric dtype, in its
/// typed field or in `tensor_content`.
enum ScalarValue {
    static func of(_ value: Tensorboard_Summary.Value) -> Double? {
        switch value.value {
        case .simpleValue(let number): return Double(number)
        case .tensor(let tensor): return of(tensor)
        case nil: return nil
        }
    }

    static func of(_ tensor: Tensorboard_TensorProto) -> Double? {
        // A scalar has no dimensions; a shape of ones holds one element too.
        guard tensor.tensorShape.dim.allSatisfy({ $0.size == 1 }) else { return nil }
        let content = [UInt8](tensor.tensorContent)
        switch tensor.dtype {
        case .dtFloat: return tensor.floatVal.first.map(Double.init) ?? load(content, Float.self).map(Double.init)
        case .dtDouble: return tensor.doubleVal.first ?? load(content, Double.self)
        case .dtInt32: return tensor.intVal.first.map(Double.init) ?? load(content, Int32.self).map(Double.init)
        case .dtInt64: return tensor.int64Val.first.map(Double.init) ?? load(content, Int64.self).map(Double.init)
        case .dtHalf:
            let bits = tensor.halfVal.first.map { UInt16(truncatingIfNeeded: $0) } ?? load(content, UInt16.self)
            return bits.map { Double(Float16(bitPattern: $0)) }
        case .dtBfloat16:
            let bits = tensor.halfVal.first.map { UInt16(truncatingIfNeeded: $0) } ?? load(content, UInt16.self)
            return bits.map { Double(Float(bitPattern: UInt32($0) << 16)) }
        default: return nil
        }
    }

    /// One little-endian value of `type` when `bytes` holds exactly one.
    private static func load<T: FixedWidthInteger>(_ bytes: [UInt8], _ type: T.Type) -> T? {
        guard bytes.count == MemoryLayout<T>.size else { return nil }
        return T(littleEndian: bytes.withUnsafeBytes { $0.loadUnaligned(as: T.self) })
    }

    private static func load<T: BinaryFloatingPoint>(_ bytes: [UInt8], _ type: T.Type) -> T? {
        guard bytes.count == MemoryLayout<T>.size else { return nil }
        switch type {
        case is Float.Type: return T(Float(bitPattern: load(bytes, UInt32.self)!))
        default: return T(Double(bitPattern: load(bytes, UInt64.self)!))
        }
    }
}
