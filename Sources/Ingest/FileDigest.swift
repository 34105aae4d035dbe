import Crypto
import SafeTensors

/// SHA-256 digests, as lowercase hex, for the ledger and `mwa_merge.json`.
public enum FileDigest {
    public static func sha256(_ bytes: UnsafeRawBufferPointer) -> String {
        var hasher = SHA256()
        hasher.update(bufferPointer: bytes)
        return hex(hasher.finalize())
    }

    /// Lowercase hex of a digest's bytes.
    public static func hex(_ digest: some Sequence<UInt8>) -> String {
        digest.map { hex($0) }.joined()
    }

    /// The digest of the file at `path`, read through a memory map.
    public static func sha256(ofFile path: String) throws(SafeTensorsError) -> String {
        let file = try MappedFile(path: path)
        return withExtendedLifetime(file) { sha256(file.bytes) }
    }

    private static func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789abcdef")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 0xF)]])
    }
}
