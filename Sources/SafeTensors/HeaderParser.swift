import Foundation

/// The largest header the format allows (the Rust reference's limit).
let maxHeaderLength: UInt64 = 100_000_000

/// The most entries (tensors, and `__metadata__`) a header may list. Decoding costs about 13 µs and 600 bytes per
/// entry, so a hostile header of a million tiny tensors would stall the daemon for
/// seconds and take over half a gigabyte; the largest real adapters (DeepSeek-V3 with
/// every expert adapted) have about 90,000.
let maxTensorCount = 250_000

/// A rule broken inside the header; the reader adds the file's name.
struct HeaderIssue: Error {
    var tensor: String?
    var rule: SafeTensorsError.Rule
}

/// The validated content of a header.
struct ParsedHeader {
    /// Tensors in data order (by offset).
    var tensors: [TensorInfo]
    var metadata: [String: String]?
    /// Where the data section starts in the file: 8 + header length.
    var dataStart: Int
}

/// Parses and checks the header of a safetensors buffer, rule by rule, in the order
/// the format defines them; the first broken rule is reported.
enum HeaderParser {
    /// `bytes` is the file, or (with `fileSize`) a prefix of it holding the header.
    static func parse(_ bytes: UnsafeRawBufferPointer, fileSize: Int? = nil) throws(HeaderIssue) -> ParsedHeader {
        let size = fileSize ?? bytes.count
        guard size >= 8 else { throw HeaderIssue(rule: .fileTooSmall(size: size)) }
        let length = UInt64(littleEndian: bytes.loadUnaligned(as: UInt64.self))
        guard length <= maxHeaderLength else { throw HeaderIssue(rule: .headerTooLarge(length: length)) }
        let dataStart = 8 + Int(length)
        guard dataStart <= size else {
            throw HeaderIssue(rule: .headerBeyondFile(length: length, fileSize: size))
        }
        let headerBytes = UnsafeRawBufferPointer(rebasing: bytes[8..<dataStart])
        let raw = try decode(headerBytes)
        let tensors = try validateLayout(raw.entries, dataLength: size - dataStart)
        return ParsedHeader(tensors: tensors, metadata: raw.metadata, dataStart: dataStart)
    }

    private static func decode(_ header: UnsafeRawBufferPointer) throws(HeaderIssue) -> RawHeader {
        guard String(validating: header, as: UTF8.self) != nil else { throw HeaderIssue(rule: .headerNotUTF8) }
        let members = topLevelMemberCount(header)
        if members > maxTensorCount {
            throw HeaderIssue(rule: .tooManyTensors(count: members, limit: maxTensorCount))
        }
        do {
            return try JSONDecoder().decode(RawHeader.self, from: Data(header))
        } catch let issue as HeaderIssue {
            throw issue
        } catch DecodingError.typeMismatch {
            throw HeaderIssue(rule: .headerNotObject)
        } catch let DecodingError.dataCorrupted(context) {
            throw HeaderIssue(rule: .headerNotJSON(jsonReason(context)))
        } catch {
            throw HeaderIssue(rule: .headerNotJSON(String(describing: error)))
        }
    }

    /// The members of the outermost JSON object, counted as the colons at depth 1
    /// outside strings: one pass, no allocation, so a huge header is refused before
    /// it is decoded. Only an upper bound is needed; a malformed header fails decoding.
    static func topLevelMemberCount(_ header: UnsafeRawBufferPointer) -> Int {
        var depth = 0
        var inString = false
        var escaped = false
        var count = 0
        for byte in header {
            if inString {
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"): depth -= 1
            case UInt8(ascii: ":") where depth == 1: count += 1
            default: break
            }
        }
        return count
    }

    private static func jsonReason(_ context: DecodingError.Context) -> String {
        if let underlying = context.underlyingError as NSError?,
            let detail = underlying.userInfo[NSDebugDescriptionErrorKey] as? String
        {
            return detail
        }
        return context.debugDescription
    }

    /// Checks dtype, shape and offsets of every entry, then that the data is laid out
    /// contiguously from 0 and ends exactly at the end of the file.
    private static func validateLayout(_ entries: [RawTensorEntry], dataLength: Int) throws(HeaderIssue) -> [TensorInfo] {
        let ordered = entries.sorted { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
        var tensors: [TensorInfo] = []
        tensors.reserveCapacity(ordered.count)
        var expected = 0
        for entry in ordered {
            let info = try entry.validated()
            let begin = info.dataOffsets.lowerBound
            if begin > expected { throw HeaderIssue(tensor: entry.name, rule: .dataGap(expected: expected, found: begin)) }
            if begin < expected { throw HeaderIssue(tensor: entry.name, rule: .dataOverlap(expected: expected, found: begin)) }
            expected = info.dataOffsets.upperBound
            tensors.append(info)
        }
        if expected > dataLength { throw HeaderIssue(rule: .dataTruncated(expected: expected, available: dataLength)) }
        if expected < dataLength { throw HeaderIssue(rule: .trailingBytes(count: dataLength - expected)) }
        return tensors
    }
}

/// The header as JSON gives it: entries not yet checked against each other.
struct RawHeader: Decodable {
    var entries: [RawTensorEntry] = []
    var metadata: [String: String]?

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: HeaderKey.self)
        for key in container.allKeys {
            if key.stringValue == "__metadata__" {
                metadata = try Self.metadata(container, key)
            } else {
                entries.append(try RawTensorEntry(container, key))
            }
        }
    }

    private static func metadata(_ container: KeyedDecodingContainer<HeaderKey>, _ key: HeaderKey) throws(HeaderIssue) -> [String: String]? {
        if (try? container.decodeNil(forKey: key)) == true { return nil }
        guard let map = try? container.decode([String: String].self, forKey: key) else {
            throw HeaderIssue(rule: .invalidMetadata("found a value that is not a string map"))
        }
        return map
    }
}

/// One tensor entry with its fields decoded but not yet checked for consistency.
struct RawTensorEntry {
    var name: String
    var dtype: String
    var shape: [UInt64]
    var begin: UInt64
    var end: UInt64

    init(_ container: KeyedDecodingContainer<HeaderKey>, _ key: HeaderKey) throws(HeaderIssue) {
        name = key.stringValue
        let entry: KeyedDecodingContainer<HeaderKey>
        do { entry = try container.nestedContainer(keyedBy: HeaderKey.self, forKey: key) } catch {
            throw HeaderIssue(tensor: name, rule: .tensorNotObject)
        }
        dtype = try Self.field(entry, "dtype", String.self, name, expected: "a string")
        shape = try Self.field(entry, "shape", [UInt64].self, name, expected: "an array of non-negative integers")
        let offsets = try Self.field(entry, "data_offsets", [UInt64].self, name, expected: "[begin, end], two non-negative integers")
        guard offsets.count == 2 else {
            throw HeaderIssue(tensor: name, rule: .invalidField("data_offsets", expected: "[begin, end], two non-negative integers"))
        }
        begin = offsets[0]
        end = offsets[1]
    }

    private static func field<T: Decodable>(
        _ entry: KeyedDecodingContainer<HeaderKey>, _ field: String, _ type: T.Type, _ tensor: String, expected: String
    ) throws(HeaderIssue) -> T {
        let key = HeaderKey(field)
        guard entry.contains(key) else { throw HeaderIssue(tensor: tensor, rule: .missingField(field)) }
        do { return try entry.decode(T.self, forKey: key) } catch {
            throw HeaderIssue(tensor: tensor, rule: .invalidField(field, expected: expected))
        }
    }

    /// The entry as a ``TensorInfo``, once dtype, offsets and size agree.
    func validated() throws(HeaderIssue) -> TensorInfo {
        guard let type = DType(rawValue: dtype) else { throw HeaderIssue(tensor: name, rule: .unsupportedDType(dtype)) }
        guard begin <= end else { throw HeaderIssue(tensor: name, rule: .invalidOffsets(begin: begin, end: end)) }
        guard let needed = byteCount(of: type) else { throw HeaderIssue(tensor: name, rule: .shapeOverflow(shape: shape)) }
        guard let lower = Int(exactly: begin), let upper = Int(exactly: end) else {
            throw HeaderIssue(tensor: name, rule: .invalidField("data_offsets", expected: "offsets that fit in a 64-bit signed integer"))
        }
        guard upper - lower == needed else {
            throw HeaderIssue(tensor: name, rule: .sizeMismatch(expected: needed, actual: upper - lower))
        }
        return TensorInfo(name: name, dtype: type, shape: shape.map { Int($0) }, dataOffsets: lower..<upper)
    }

    /// product(shape) × element size, or nil when it does not fit in an Int.
    private func byteCount(of type: DType) -> Int? {
        var total = type.size
        for dimension in shape {
            guard let d = Int(exactly: dimension) else { return nil }
            let (product, overflow) = total.multipliedReportingOverflow(by: d)
            if overflow { return nil }
            total = product
        }
        return total
    }
}

/// Any string as a coding key: header keys are tensor names.
struct HeaderKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ string: String) { stringValue = string }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}
