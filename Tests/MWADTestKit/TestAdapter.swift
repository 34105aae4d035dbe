import SafeTensors

/// Writes small adapters with chosen values, for merges whose result is known.
public enum TestAdapter {
    public struct Tensor {
        public var name: String
        public var dtype: DType
        public var shape: [Int]
        public var values: [Double]

        public init(_ name: String, _ values: [Double], dtype: DType = .f32, shape: [Int]? = nil) {
            self.name = name
            self.dtype = dtype
            self.shape = shape ?? [values.count]
            self.values = values
        }
    }

    /// Writes `tensors` to `path` with the production writer.
    public static func write(_ tensors: [Tensor], to path: String) throws {
        let specs = tensors.map { TensorSpec(name: $0.name, dtype: $0.dtype, shape: $0.shape) }
        let writer = try SafeTensorsWriter(path: path, tensors: specs, metadata: ["format": "pt"])
        for info in writer.layout where !info.dataOffsets.isEmpty {  // an empty tensor has no bytes to append
            let tensor = tensors.first { $0.name == info.name }!
            try encode(tensor.values, tensor.dtype).withUnsafeBytes { try writer.append($0) }
        }
        try writer.finish()
    }

    /// The values of `name` in `file`, widened to Double.
    public static func values(_ file: SafeTensorsFile, _ name: String) -> [Double] {
        let info = file.tensor(named: name)!
        let bytes = file.bytes(of: info)
        return (0..<info.elementCount).map { i in
            switch info.dtype {
            case .f32: Double(bytes.loadUnaligned(fromByteOffset: i * 4, as: Float.self))
            case .f64: bytes.loadUnaligned(fromByteOffset: i * 8, as: Double.self)
            case .f16: Double(bytes.loadUnaligned(fromByteOffset: i * 2, as: Float16.self))
            case .bf16: Double(BFloat16.float(fromBits: bytes.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self)))
            }
        }
    }

    /// The root mean square of every value of the adapter file at `path`: the score the
    /// tests' evaluator (`Tests/Fixtures/evaluators/norm_eval.py`) gives it.
    public static func rms(ofFile path: String) throws -> Double {
        let file = try SafeTensorsFile(path: path)
        let values = file.tensors.flatMap { Self.values(file, $0.name) }
        return (values.map { $0 * $0 }.reduce(0, +) / Double(values.count)).squareRoot()
    }

    static func encode(_ values: [Double], _ dtype: DType) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: values.count * dtype.size)
        bytes.withUnsafeMutableBytes { raw in
            for (i, value) in values.enumerated() {
                switch dtype {
                case .f32: raw.storeBytes(of: Float(value), toByteOffset: i * 4, as: Float.self)
                case .f64: raw.storeBytes(of: value, toByteOffset: i * 8, as: Double.self)
                case .f16: raw.storeBytes(of: Float16(value), toByteOffset: i * 2, as: Float16.self)
                case .bf16: raw.storeBytes(of: BFloat16.bits(from: Float(value)), toByteOffset: i * 2, as: UInt16.self)
                }
            }
        }
        return bytes
    }
}

extension TestAdapter {
    /// The largest |a − b| / max|b| over the tensors of two adapters with the same
    /// tensors (infinity when their tensors differ).
    public static func deviation(_ a: String, _ b: String) throws -> Double {
        let x = try SafeTensorsFile(path: a)
        let y = try SafeTensorsFile(path: b)
        guard Set(x.tensors.map(\.name)) == Set(y.tensors.map(\.name)) else { return .infinity }
        var worst = 0.0
        for tensor in y.tensors {
            let u = values(x, tensor.name)
            let v = values(y, tensor.name)
            let scale = max(v.map(abs).max() ?? 0, .leastNormalMagnitude)
            worst = max(worst, zip(u, v).map { abs($0 - $1) / scale }.max() ?? 0)
        }
        return worst
    }
}
