import Foundation
import Ingest
import SafeTensors
#if canImport(Glibc)
import Glibc
#endif

/// Reads a published merge the way a careful consumer does: both files through one
/// descriptor of the output folder, so that a swap in between cannot mix two merges.
/// A read is torn when the adapter does not validate or its SHA-256 differs from the
/// one its `mwa_merge.json` names.
public enum OutputReader {
    public enum Outcome: Equatable, Sendable {
        case whole
        /// Nothing there (yet), or the folder was swapped away mid-read: try again.
        case absent
        case torn(String)
    }

    public static func read(_ folder: String) -> Outcome {
        let dir = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard dir >= 0 else { return .absent }
        defer { close(dir) }
        guard let manifest = contents(dir, "mwa_merge.json"), let adapter = contents(dir, "adapter_model.safetensors") else {
            return .absent
        }
        guard let object = try? JSONSerialization.jsonObject(with: manifest) as? [String: Any],
              let expected = object["output_sha256"] as? String else { return .torn("mwa_merge.json does not parse") }
        let digest = adapter.withUnsafeBytes { FileDigest.sha256($0) }
        guard digest == expected else { return .torn("adapter SHA-256 \(digest.prefix(12)) ≠ manifest's \(expected.prefix(12))") }
        do {
            _ = try adapter.withUnsafeBytes { try SafeTensorsFile.validate($0) }
        } catch {
            return .torn("\(error)")
        }
        return .whole
    }

    private static func contents(_ dir: Int32, _ name: String) -> Data? {
        let fd = openat(dir, name, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = Glibc.read(fd, &buffer, buffer.count)
            if count < 0 { return nil }
            if count == 0 { return data }
            data.append(contentsOf: buffer[..<count])
        }
    }
}
