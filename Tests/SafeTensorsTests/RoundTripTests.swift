import Foundation
import MWADTestKit
import SafeTensors
import Testing

/// What the writer writes, the reader reads back bit for bit.
@Suite struct RoundTripTests {
    let dir = TemporaryDirectory()

    /// Deterministic pseudo-random bytes.
    func bytes(_ count: Int, seed: UInt64) -> [UInt8] {
        var state = seed
        return (0..<count).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return UInt8(truncatingIfNeeded: state >> 33)
        }
    }

    func write(_ tensors: [(TensorSpec, [UInt8])], metadata: [String: String], to name: String) throws -> String {
        let path = dir.file(name)
        let writer = try SafeTensorsWriter(path: path, tensors: tensors.map(\.0), metadata: metadata)
        for info in writer.layout {
            let data = tensors.first { $0.0.name == info.name }!.1
            try data.withUnsafeBytes { try writer.append($0) }
        }
        try writer.finish()
        return path
    }

    @Test(arguments: DType.allCases)
    func roundTripIsBitExact(_ dtype: DType) throws {
        let specs = [
            TensorSpec(name: "layer.1.lora_B.weight", dtype: dtype, shape: [16, 4]),
            TensorSpec(name: "layer.0.lora_A.weight", dtype: dtype, shape: [4, 16]),
            TensorSpec(name: "scalar", dtype: dtype, shape: []),
            TensorSpec(name: "ünïcode \"quoted\"", dtype: dtype, shape: [3]),
        ]
        let tensors = specs.enumerated().map { ($1, bytes($1.byteCount, seed: UInt64($0))) }
        let path = try write(tensors, metadata: ["format": "pt", "note": "a\nb"], to: "rt-\(dtype).safetensors")
        let file = try SafeTensorsFile(path: path)
        #expect(file.metadata == ["format": "pt", "note": "a\nb"])
        for (spec, data) in tensors {
            let info = try #require(file.tensor(named: spec.name))
            #expect(info.dtype == dtype)
            #expect(info.shape == spec.shape)
            #expect(Array(file.bytes(of: info)) == data)
        }
    }

    @Test func headerIsPaddedToEightAndLayoutIsDeterministic() throws {
        let specs = [
            TensorSpec(name: "b", dtype: .f16, shape: [3]),
            TensorSpec(name: "a", dtype: .f16, shape: [1]),
            TensorSpec(name: "c", dtype: .f64, shape: [1]),
            TensorSpec(name: "d", dtype: .f32, shape: [1]),
        ]
        let tensors = specs.map { ($0, bytes($0.byteCount, seed: 1)) }
        let first = try write(tensors, metadata: ["format": "pt"], to: "one.safetensors")
        let second = try write(tensors.reversed(), metadata: ["format": "pt"], to: "two.safetensors")
        let a = try Data(contentsOf: URL(fileURLWithPath: first))
        #expect(a == (try Data(contentsOf: URL(fileURLWithPath: second))))
        let headerLength = a.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
        #expect(headerLength % 8 == 0)
        // Largest elements first keeps every tensor aligned to its element size.
        let file = try SafeTensorsFile(path: first)
        #expect(file.tensors.map(\.name) == ["c", "d", "a", "b"])
    }

    @Test func refusesToOverwriteAnExistingFile() throws {
        let path = dir.write("exists.safetensors", [1, 2, 3])
        #expect(throws: SafeTensorsError.self) {
            _ = try SafeTensorsWriter(path: path, tensors: [], metadata: [:])
        }
    }

    /// A scratch file written over in place ends up byte for byte what a fresh write
    /// gives, whether the old content was longer or shorter.
    @Test func overwritingInPlaceGivesTheSameFileAsAFreshWrite() throws {
        let small = [(TensorSpec(name: "w", dtype: .f64, shape: [3, 5]), bytes(120, seed: 7))]
        let large = [(TensorSpec(name: "w", dtype: .f64, shape: [300, 5]), bytes(12_000, seed: 8))]
        let fresh = try write(small, metadata: ["k": "v"], to: "fresh.safetensors")
        for before in [large, small] {
            let path = try write(before, metadata: ["old": String(repeating: "x", count: 300)], to: "scratch-\(before[0].1.count).safetensors")
            let writer = try SafeTensorsWriter(path: path, tensors: small.map(\.0), metadata: ["k": "v"], overwrite: true)
            try small[0].1.withUnsafeBytes { try writer.append($0) }
            try writer.finish(sync: false)
            #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data(contentsOf: URL(fileURLWithPath: fresh)))
        }
    }

    @Test func refusesATensorOfTheWrongSize() throws {
        let writer = try SafeTensorsWriter(path: dir.file("w.safetensors"),
                                           tensors: [TensorSpec(name: "w", dtype: .f32, shape: [2])], metadata: [:])
        #expect(throws: SafeTensorsError.self) { try [UInt8](repeating: 0, count: 4).withUnsafeBytes { try writer.append($0) } }
    }
}
