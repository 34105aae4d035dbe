import Foundation

/// JSON as Python's `json` module writes it: strict JSON, except that non-finite
/// floats come out as bare `NaN`, `Infinity` and `-Infinity`.
///
/// Those three tokens are quoted (outside strings only) and decoded back into floats
/// by the strict decoder's `convertFromString` strategy. Foundation's JSON5 mode,
/// which reads them too, is not used: its scanner stops the process (a trap, not a
/// thrown error) on some malformed numbers — the fuzzer found `9e+}` — and on some
/// invalid UTF-8.
enum PythonJSON {
    /// Decodes `data`, first checking it is UTF-8.
    static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws(Problem) -> T {
        if let offset = firstInvalidUTF8(data) {
            let byte = String(data[data.startIndex + offset], radix: 16, uppercase: true)
            throw .notUTF8("not valid UTF-8 (byte 0x\(byte) at offset \(offset))")
        }
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity",
                                                                         nan: "NaN")
        do { return try decoder.decode(T.self, from: quotingNonFinite(data)) } catch let error as DecodingError {
            throw .decoding(error)
        } catch {
            throw .other(error)
        }
    }

    enum Problem: Error {
        /// Where and which byte, for an error message.
        case notUTF8(String)
        case decoding(DecodingError)
        case other(any Error)
    }

    /// `data` with each bare `NaN`, `Infinity` and `-Infinity` outside a string put in
    /// quotes; `data` itself when there is none (a trainer state of megabytes is read at
    /// every checkpoint: one pass, no copy unless a token is found).
    static func quotingNonFinite(_ data: Data) -> Data {
        data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) -> Data in
            var output: [UInt8]?
            var copied = 0
            var inString = false
            var index = 0
            while index < bytes.count {
                let byte = bytes[index]
                if inString {
                    if byte == UInt8(ascii: "\\") { index += 2; continue }
                    if byte == UInt8(ascii: "\"") { inString = false }
                    index += 1
                    continue
                }
                if byte == UInt8(ascii: "\"") { inString = true }
                // Only these bytes can start a token: the rest go by on one comparison.
                if byte == UInt8(ascii: "N") || byte == UInt8(ascii: "I") || byte == UInt8(ascii: "-"),
                   let token = nonFinite.first(where: { bytes[index...].starts(with: $0) }) {
                    if output == nil { output = [] }
                    output!.append(contentsOf: bytes[copied..<index])
                    output!.append(UInt8(ascii: "\""))
                    output!.append(contentsOf: token)
                    output!.append(UInt8(ascii: "\""))
                    index += token.count
                    copied = index
                    continue
                }
                index += 1
            }
            guard var output else { return data }
            output.append(contentsOf: bytes[copied...])
            return Data(output)
        }
    }

    private static let nonFinite: [[UInt8]] = ["-Infinity", "Infinity", "NaN"].map { Array($0.utf8) }

    /// The offset of the first byte that breaks UTF-8, or nil when all is valid.
    static func firstInvalidUTF8(_ data: Data) -> Int? {
        data.withUnsafeBytes { bytes -> Int? in
            var iterator = bytes.makeIterator()
            var decoder = UTF8()
            var offset = 0
            while true {
                switch decoder.decode(&iterator) {
                case .scalarValue(let scalar): offset += UTF8.width(scalar)
                case .emptyInput: return nil
                case .error: return offset
                }
            }
        }
    }
}
