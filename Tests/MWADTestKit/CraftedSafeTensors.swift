/// Builds safetensors bytes by hand, to break exactly one rule of the format at a time.
public enum CraftedSafeTensors {
    /// An 8-byte little-endian length, then `header` (padded with spaces to `pad`
    /// when given), then `data`.
    public static func file(header: String, data: [UInt8] = [], length: UInt64? = nil) -> [UInt8] {
        let body = Array(header.utf8)
        return littleEndian(length ?? UInt64(body.count)) + body + data
    }

    /// The same with raw header bytes (for invalid UTF-8).
    public static func file(headerBytes: [UInt8], data: [UInt8] = []) -> [UInt8] {
        littleEndian(UInt64(headerBytes.count)) + headerBytes + data
    }

    /// A header entry for one tensor.
    public static func entry(_ name: String, _ dtype: String, _ shape: [Int], _ begin: Int, _ end: Int) -> String {
        "\"\(name)\":{\"dtype\":\"\(dtype)\",\"shape\":\(shape),\"data_offsets\":[\(begin),\(end)]}"
    }

    /// A valid file of `count` one-element F32 tensors `t0`, `t1`, … (all zero).
    public static func tiny(count: Int) -> [UInt8] {
        var header = "{"
        header.reserveCapacity(count * 64)
        for i in 0..<count {
            if i > 0 { header += "," }
            header += entry("t\(i)", "F32", [1], 4 * i, 4 * i + 4)
        }
        header += "}"
        return file(header: header, data: [UInt8](repeating: 0, count: 4 * count))
    }

    /// The little-endian bytes of F32 `values`.
    public static func f32(_ values: [Float]) -> [UInt8] {
        values.flatMap { littleEndian($0.bitPattern) }
    }

    public static func littleEndian<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        withUnsafeBytes(of: value.littleEndian) { Array($0) }
    }
}
