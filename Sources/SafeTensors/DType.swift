/// The element types mwad reads and writes. Other safetensors dtypes (integers,
/// FP8, bool) are refused with ``SafeTensorsError/Rule/unsupportedDType(_:)``:
/// averaging them has no meaning for adapter weights.
public enum DType: String, Sendable, CaseIterable, Codable {
    case f64 = "F64"
    case f32 = "F32"
    case f16 = "F16"
    case bf16 = "BF16"

    /// Bytes per element.
    public var size: Int {
        switch self {
        case .f64: 8
        case .f32: 4
        case .f16, .bf16: 2
        }
    }
}
