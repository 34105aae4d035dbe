@testable import Merge
import MWADTestKit
import SafeTensors
import Testing

@Suite struct LinearMergeTests {
    let dir = TemporaryDirectory()
    typealias T = TestAdapter.Tensor

    func input(_ name: String, _ weight: Double, _ tensors: [T]) throws -> MergeInput {
        let path = dir.file("\(name).safetensors")
        try TestAdapter.write(tensors, to: path)
        return MergeInput(name: name, file: try SafeTensorsFile(path: path), weight: weight)
    }

    func merge(_ inputs: [MergeInput]) throws(MergeError) -> SafeTensorsFile {
        let out = dir.file("merged-\(inputs.count)-\(inputs.map(\.name).joined()).safetensors")
        try LinearMerge.write(inputs, to: out, metadata: ["format": "pt", "mwad_version": "test"])
        return try! SafeTensorsFile(path: out)
    }

    @Test(arguments: [DType.f32, .f64, .f16, .bf16])
    func weightedSumOfEveryTensor(_ dtype: DType) throws {
        let a = try input("a", 0.25, [T("x", [1, 2, -4, 8], dtype: dtype), T("y", [0.5], dtype: dtype)])
        let b = try input("b", 0.75, [T("x", [3, 2, 4, 0], dtype: dtype), T("y", [1.5], dtype: dtype)])
        let merged = try merge([a, b])
        #expect(merged.tensors.allSatisfy { $0.dtype == dtype })
        #expect(TestAdapter.values(merged, "x") == [2.5, 2, 2, 2])
        #expect(TestAdapter.values(merged, "y") == [1.25])
        #expect(merged.metadata?["format"] == "pt")
    }

    @Test func bf16OutputRoundsToNearestEven() throws {
        // 1 and 1 + 2^-7 (adjacent BF16 values) at equal weight: exactly halfway, to even (1).
        let a = try input("a", 0.5, [T("x", [1], dtype: .bf16)])
        let b = try input("b", 0.5, [T("x", [1 + 1.0 / 128], dtype: .bf16)])
        #expect(TestAdapter.values(try merge([a, b]), "x") == [1])
    }

    @Test func mismatchedShapes() throws {
        let a = try input("checkpoint-10", 0.5, [T("x", [1, 2, 3, 4], shape: [2, 2])])
        let b = try input("checkpoint-20", 0.5, [T("x", [1, 2, 3, 4], shape: [4, 1])])
        #expect(throws: MergeError.shapeMismatch(tensor: "x", first: "checkpoint-10", firstShape: [2, 2],
                                                 second: "checkpoint-20", secondShape: [4, 1])) {
            _ = try merge([a, b])
        }
    }

    @Test func mismatchedDTypes() throws {
        let a = try input("checkpoint-10", 0.5, [T("x", [1], dtype: .f32)])
        let b = try input("checkpoint-20", 0.5, [T("x", [1], dtype: .bf16)])
        #expect(throws: MergeError.dtypeMismatch(tensor: "x", first: "checkpoint-10", firstType: .f32,
                                                 second: "checkpoint-20", secondType: .bf16)) {
            _ = try merge([a, b])
        }
    }

    @Test func tensorMissingFromOneMember() throws {
        let a = try input("checkpoint-10", 0.5, [T("x", [1]), T("magnitude", [1])])
        let b = try input("checkpoint-20", 0.5, [T("x", [1])])
        #expect(throws: MergeError.tensorMissing(tensor: "magnitude", presentIn: "checkpoint-10", missingFrom: "checkpoint-20")) {
            _ = try merge([a, b])
        }
        #expect(throws: MergeError.tensorMissing(tensor: "magnitude", presentIn: "checkpoint-10", missingFrom: "checkpoint-20")) {
            _ = try merge([b, a])
        }
    }

    @Test(arguments: [Double.nan, .infinity, -.infinity])
    func nonFiniteInputIsNamed(_ bad: Double) throws {
        let a = try input("checkpoint-10", 0.5, [T("x", [1, 2])])
        let b = try input("checkpoint-20", 0.5, [T("x", [1, bad])])
        #expect(throws: MergeError.nonFinite(tensor: "x", member: "checkpoint-20")) { _ = try merge([a, b]) }
    }

    @Test func nothingToMerge() {
        #expect(throws: MergeError.noMembers) { _ = try merge([]) }
    }
}

/// Tensors larger than a chunk, split across threads: every element still exact.
@Suite struct StreamingMergeTests {
    @Test(arguments: [DType.f32, .bf16, .f64])
    func tensorsLargerThanAChunkAreMergedExactly(_ dtype: DType) throws {
        let dir = TemporaryDirectory()
        let count = LinearMerge.chunkElements + 12_345
        let a = (0..<count).map { Double($0 % 251) }
        let b = (0..<count).map { Double(($0 * 7) % 13) }
        try TestAdapter.write([TestAdapter.Tensor("big", a, dtype: dtype), TestAdapter.Tensor("small", [1, 2], dtype: dtype)], to: dir.file("a.safetensors"))
        try TestAdapter.write([TestAdapter.Tensor("big", b, dtype: dtype), TestAdapter.Tensor("small", [3, 4], dtype: dtype)], to: dir.file("b.safetensors"))
        let inputs = [MergeInput(name: "a", file: try SafeTensorsFile(path: dir.file("a.safetensors")), weight: 0.25),
                      MergeInput(name: "b", file: try SafeTensorsFile(path: dir.file("b.safetensors")), weight: 0.75)]
        try LinearMerge.write(inputs, to: dir.file("m.safetensors"), metadata: [:])
        let merged = try SafeTensorsFile(path: dir.file("m.safetensors"))
        let values = TestAdapter.values(merged, "big")
        let expected = zip(a, b).map { 0.25 * $0 + 0.75 * $1 }
        // Exact in F32 and F64; BF16 holds these small integers and quarters exactly up to 64.
        let mismatches = zip(values, expected).enumerated().filter { _, pair in
            dtype == .bf16 ? abs(pair.0 - pair.1) > abs(pair.1) * 0x1p-8 : pair.0 != pair.1
        }
        #expect(mismatches.isEmpty, "first mismatch at \(mismatches.first.map { "\($0.offset): \($0.element)" } ?? "")")
        #expect(TestAdapter.values(merged, "small") == [2.5, 3.5])
    }
}
