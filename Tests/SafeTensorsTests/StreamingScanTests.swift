import Foundation
import MWADTestKit
import SafeTensors
import Testing

/// The scan of an adapter's values while it streams past, against the check of the
/// whole mapped file, on real trainer output.
@Suite struct StreamingScanTests {
    let dir = TemporaryDirectory()

    /// Feeds `bytes` in pieces of `size` (the last one shorter).
    func scan(_ bytes: [UInt8], pieces size: Int, declared: Int? = nil) -> StreamingScan.Outcome {
        let scan = StreamingScan(fileSize: declared ?? bytes.count)
        bytes.withUnsafeBytes { raw in
            var start = 0
            while start < raw.count {
                scan.consume(UnsafeRawBufferPointer(rebasing: raw[start..<min(raw.count, start + size)]))
                start += size
            }
        }
        return scan.outcome
    }

    /// A real adapter with the element at `byteOffset` of tensor `name` set to `bits`.
    func poisoned(_ adapter: String, tensor name: String, element: Int, bits: [UInt8]) throws -> [UInt8] {
        let file = try SafeTensorsFile(path: adapter)
        let tensor = try #require(file.tensor(named: name))
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: adapter)))
        let start = file.fileBytes.count - (file.tensors.last!.dataOffsets.upperBound - tensor.dataOffsets.lowerBound)
        bytes.replaceSubrange((start + element * bits.count)..<(start + (element + 1) * bits.count), with: bits)
        return bytes
    }

    @Test(arguments: [1, 3, 7, 8, 4096, 1 << 20])
    func aRealAdapterIsAllFiniteInPiecesOfAnySize(_ size: Int) throws {
        for adapter in [Fixtures.adapter(Fixtures.f32Run, 80), Fixtures.adapter(Fixtures.bf16Run, 60)] {
            let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: adapter)))
            #expect(scan(bytes, pieces: size) == .allFinite, "\(adapter) in pieces of \(size)")
        }
    }

    /// NaN and ±inf, in F32 and BF16, split across pieces or not: the scan names the
    /// tensor the check of the mapped file names.
    @Test(arguments: [1, 3, 4096])
    func aNonFiniteValueIsFoundInItsTensor(_ size: Int) throws {
        let name = "base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight"
        let cases: [(String, [UInt8])] = [
            (Fixtures.adapter(Fixtures.f32Run, 80), [0x00, 0x00, 0xC0, 0x7F]),  // NaN
            (Fixtures.adapter(Fixtures.f32Run, 80), [0x00, 0x00, 0x80, 0xFF]),  // -inf
            (Fixtures.adapter(Fixtures.bf16Run, 60), [0x80, 0x7F]),  // +inf
        ]
        for (adapter, bits) in cases {
            let bytes = try poisoned(adapter, tensor: name, element: 5, bits: bits)
            #expect(scan(bytes, pieces: size) == .nonFinite(tensor: name), "\(bits) in pieces of \(size)")
            let path = dir.file("poisoned-\(bits.count)-\(bits.last!)")
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            let file = try SafeTensorsFile(path: path)
            #expect(file.tensors.first { !FiniteCheck.allFinite(file.bytes(of: $0), as: $0.dtype) }?.name == name)
        }
    }

    /// What the scan cannot judge is left to the validation of the copy.
    @Test func whatCannotBeScannedSaysSo() throws {
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Fixtures.adapter(Fixtures.f32Run, 80))))
        #expect(scan(Array(bytes.dropLast(10)), pieces: 4096, declared: bytes.count) == .unscanned, "a short stream")
        #expect(scan(Array(bytes.prefix(5)), pieces: 1) == .unscanned, "not even a header length")
        var broken = bytes
        broken[9] = UInt8(ascii: "#")  // the header is no longer JSON
        #expect(scan(broken, pieces: 4096) == .unscanned)
        let huge = CraftedSafeTensors.littleEndian(UInt64(StreamingScan.maxHeader + 1)) + Array("{}".utf8)
        #expect(scan(huge, pieces: 4096) == .unscanned)
    }
}
