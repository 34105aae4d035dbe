/// Reads a safetensors file as it streams past, in order (during a copy), and finds
/// the first tensor holding a NaN or an infinity, so that the copy need not be read
/// again for it.
///
/// The header is parsed from the first bytes with the file's size. A stream that
/// cannot be scanned — a header that does not parse (the full validation of the copy
/// then names the rule) or is longer than ``maxHeader`` — ends as ``Outcome/unscanned``
/// and the caller checks the copy itself.
public final class StreamingScan {
    public enum Outcome: Equatable, Sendable {
        /// Every value of every tensor is finite.
        case allFinite
        /// The first tensor, in data order, holding a NaN or an infinity.
        case nonFinite(tensor: String)
        /// Not scanned (see the type's documentation).
        case unscanned
    }

    /// Headers longer than this are not buffered for a streaming scan.
    public static let maxHeader = 16 << 20

    private let fileSize: Int
    private var prefix: [UInt8] = []
    private var tensors: [TensorInfo]?
    private var dataStart = 0
    private var position = 0
    /// The tensor the stream is in, and the bytes of an element split across chunks.
    private var current = 0
    private var carry: [UInt8] = []
    private var found: String?
    private var failed = false

    public init(fileSize: Int) {
        self.fileSize = fileSize
    }

    /// The next bytes of the file.
    public func consume(_ bytes: UnsafeRawBufferPointer) {
        guard !failed, found == nil, !bytes.isEmpty else { return }
        var rest = bytes
        if tensors == nil {
            rest = takeHeader(rest)
            guard tensors != nil else { return }
        }
        scan(rest)
    }

    /// What the stream showed, once it has all been consumed.
    public var outcome: Outcome {
        if let found { return .nonFinite(tensor: found) }
        guard !failed, tensors != nil, position == fileSize else { return .unscanned }
        return .allFinite
    }

    /// Buffers bytes until the header is whole, parses it; returns the bytes after it.
    private func takeHeader(_ bytes: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        let needed: Int
        if prefix.count + bytes.count >= 8 {
            let first = prefix + bytes.prefix(max(0, 8 - prefix.count))
            let length = first.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
            guard length <= UInt64(Self.maxHeader) else { failed = true; return UnsafeRawBufferPointer(rebasing: bytes[0..<0]) }
            needed = 8 + Int(length)
        } else {
            needed = 8
        }
        let take = min(bytes.count, needed - prefix.count)
        prefix += bytes.prefix(take)
        position += take
        let rest = UnsafeRawBufferPointer(rebasing: bytes[take...])
        guard prefix.count == needed, needed > 8 else { return rest }
        do {
            let header = try prefix.withUnsafeBytes { (raw) throws(HeaderIssue) in try HeaderParser.parse(raw, fileSize: fileSize) }
            tensors = header.tensors.filter { !$0.dataOffsets.isEmpty }
            dataStart = header.dataStart
        } catch {
            failed = true
        }
        prefix = []
        return rest
    }

    /// Checks data bytes: the stream is the tensors back to back, in data order.
    private func scan(_ bytes: UnsafeRawBufferPointer) {
        var rest = bytes
        while !rest.isEmpty, found == nil, let tensors, current < tensors.count {
            let tensor = tensors[current]
            let end = dataStart + tensor.dataOffsets.upperBound
            let here = UnsafeRawBufferPointer(rebasing: rest.prefix(end - position))
            check(here, tensor)
            position += here.count
            rest = UnsafeRawBufferPointer(rebasing: rest[here.count...])
            if position == end {
                current += 1
                carry = []
            }
        }
        position += rest.count  // past the last tensor: a longer file fails its validation
    }

    /// Checks the elements of `tensor` in `bytes`, completing one split by the last chunk.
    private func check(_ bytes: UnsafeRawBufferPointer, _ tensor: TensorInfo) {
        let size = tensor.dtype.size
        var rest = bytes
        if !carry.isEmpty {
            let take = min(size - carry.count, rest.count)
            carry += rest.prefix(take)
            rest = UnsafeRawBufferPointer(rebasing: rest[take...])
            guard carry.count == size else { return }
            if !carry.withUnsafeBytes({ FiniteCheck.allFinite($0, as: tensor.dtype) }) { found = tensor.name }
            carry = []
        }
        let whole = rest.count / size * size
        if !FiniteCheck.allFinite(UnsafeRawBufferPointer(rebasing: rest[..<whole]), as: tensor.dtype) { found = tensor.name }
        carry = Array(rest[whole...])
    }
}
