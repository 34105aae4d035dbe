import Foundation

/// JSON as Python's `json` module writes it: strict JSON, except that non-finite
/// floats come out as bare `NaN`/`Infinity`. Foundation reads those only in JSON5 mode.
enum PythonJSON {
    /// Decodes `data`, first checking it is UTF-8: Foundation's JSON5 scanner stops
    /// the process (a fatal error, not a thrown one) on some invalid bytes, which the
    /// fuzzer found with a single 0xF8 between two fields.
    static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws(Problem) -> T {
        if let offset = firstInvalidUTF8(data) {
            let byte = String(data[data.startIndex + offset], radix: 16, uppercase: true)
            throw .notUTF8("not valid UTF-8 (byte 0x\(byte) at offset \(offset))")
        }
        let decoder = JSONDecoder()
        decoder.allowsJSON5 = true
        do { return try decoder.decode(T.self, from: data) } catch let error as DecodingError {
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
