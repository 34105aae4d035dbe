import Foundation
import Ingest
import MWADTestKit
import Testing

/// The SHA-256 computed beside the writer: the same digest as hashing the whole file.
@Suite struct BackgroundDigestTests {
    @Test func piecesOfAnySizeGiveTheDigestOfTheWhole() throws {
        let path = Fixtures.adapter(Fixtures.f32Run, 80)
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        let expected = try FileDigest.sha256(ofFile: path)
        // More pieces than buffers, growing and shrinking: buffers are reused and grown.
        for sizes in [[1], [7, 1 << 16, 3], [bytes.count]] {
            let digest = BackgroundDigest(buffers: 2)
            var start = 0, turn = 0
            bytes.withUnsafeBytes { raw in
                while start < raw.count {
                    let end = min(raw.count, start + sizes[turn % sizes.count])
                    digest.update(UnsafeRawBufferPointer(rebasing: raw[start..<end]))
                    start = end
                    turn += 1
                }
            }
            #expect(digest.finalize() == expected, "pieces of \(sizes)")
            #expect(digest.finalize() == expected, "asked again")
        }
    }

    @Test func nothingFedIsTheDigestOfNothing() {
        #expect(BackgroundDigest().finalize() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }
}
