/// A safetensors file that breaks one of the format's rules.
///
/// Every error names the file and, where one is involved, the tensor; ``rule`` says
/// which rule was broken, one case per rule, so callers and tests can tell them apart.
public struct SafeTensorsError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file that was read or written.
    public var file: String
    /// The tensor the rule concerns, when it concerns one.
    public var tensor: String?
    /// The rule that was broken.
    public var rule: Rule

    public init(file: String, tensor: String? = nil, rule: Rule) {
        self.file = file
        self.tensor = tensor
        self.rule = rule
    }

    /// One case per rule of the format (and per way the file could not be read).
    public enum Rule: Equatable, Sendable {
        /// The file could not be opened or mapped (errno text).
        case unreadable(String)
        /// Fewer than the 8 bytes of the header length (an empty file included).
        case fileTooSmall(size: Int)
        /// The header length exceeds the format's limit of 100,000,000 bytes.
        case headerTooLarge(length: UInt64)
        /// The header length points past the end of the file.
        case headerBeyondFile(length: UInt64, fileSize: Int)
        /// The header bytes are not valid UTF-8.
        case headerNotUTF8
        /// The header is not valid JSON (parser's explanation).
        case headerNotJSON(String)
        /// The header is JSON but not an object.
        case headerNotObject
        /// The header lists more entries (tensors and `__metadata__`) than mwad accepts (250,000).
        case tooManyTensors(count: Int, limit: Int)
        /// A tensor's entry is not a JSON object.
        case tensorNotObject
        /// A tensor's entry lacks `dtype`, `shape` or `data_offsets`.
        case missingField(String)
        /// A field has the wrong type or form (field, what was expected).
        case invalidField(String, expected: String)
        /// A dtype mwad does not merge.
        case unsupportedDType(String)
        /// `data_offsets` has its end before its begin.
        case invalidOffsets(begin: UInt64, end: UInt64)
        /// The product of the shape times the element size overflows.
        case shapeOverflow(shape: [UInt64])
        /// The byte span does not equal product(shape) × dtype size.
        case sizeMismatch(expected: Int, actual: Int)
        /// The tensor starts after the previous one ended: bytes no tensor owns.
        case dataGap(expected: Int, found: Int)
        /// The tensor starts before the previous one ended.
        case dataOverlap(expected: Int, found: Int)
        /// The file ends before the last tensor's data does.
        case dataTruncated(expected: Int, available: Int)
        /// Bytes follow the last tensor's data.
        case trailingBytes(count: Int)
        /// `__metadata__` is not a map of strings to strings.
        case invalidMetadata(String)
        /// The file could not be written (errno text).
        case writeFailed(String)
    }

    public var description: String {
        let subject = tensor.map { "\(file): tensor '\($0)'" } ?? file
        return "\(subject): \(rule.explanation)"
    }
}

extension SafeTensorsError.Rule {
    /// A sentence fragment for people.
    public var explanation: String {
        switch self {
        case .unreadable(let why): "cannot be read: \(why)"
        case .fileTooSmall(let size): "is \(size) bytes, too small for the 8-byte header length"
        case .headerTooLarge(let length): "header length \(length) exceeds the limit of 100000000 bytes"
        case .headerBeyondFile(let length, let size):
            "header length \(length) runs past the end of the \(size)-byte file"
        case .headerNotUTF8: "header is not valid UTF-8"
        case .headerNotJSON(let why): "header is not valid JSON (\(why))"
        case .headerNotObject: "header is not a JSON object"
        case .tooManyTensors(let count, let limit): "header lists \(count) entries, more than the limit of \(limit) tensors"
        case .tensorNotObject: "entry is not a JSON object"
        case .missingField(let field): "missing field '\(field)'"
        case .invalidField(let field, let expected): "field '\(field)' must be \(expected)"
        case .unsupportedDType(let dtype):
            "unsupported dtype '\(dtype)' (mwad merges F32, F16, BF16 and F64)"
        case .invalidOffsets(let begin, let end): "data_offsets [\(begin), \(end)] end before they begin"
        case .shapeOverflow(let shape): "shape \(shape) is too large: its byte size overflows"
        case .sizeMismatch(let expected, let actual):
            "data_offsets span \(actual) bytes but shape and dtype need \(expected)"
        case .dataGap(let expected, let found):
            "data starts at \(found), leaving a gap after the previous tensor's end at \(expected)"
        case .dataOverlap(let expected, let found):
            "data starts at \(found), overlapping the previous tensor, which ends at \(expected)"
        case .dataTruncated(let expected, let available):
            "file is truncated: tensor data needs \(expected) bytes, \(available) present"
        case .trailingBytes(let count): "\(count) bytes follow the last tensor's data"
        case .invalidMetadata(let why): "__metadata__ must map strings to strings (\(why))"
        case .writeFailed(let why): "cannot be written: \(why)"
        }
    }
}
