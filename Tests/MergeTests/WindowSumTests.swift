import Foundation
@testable import Merge
import MWADTestKit
import SafeTensors
import Testing

/// The running window sum against full recomputation.
@Suite struct WindowSumTests {
    let dir = TemporaryDirectory()

    /// A small adapter with pseudo-random values (seeded by `seed`).
    func adapter(_ seed: Int, dtype: DType = .f32) throws -> SafeTensorsFile {
        var state = UInt64(seed) &* 0x9E37_79B9_7F4A_7C15 | 1
        func next() -> Double {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            return Double(state % 2_000_001) / 1_000_000 - 1
        }
        let path = dir.file("a\(seed).safetensors")
        try TestAdapter.write([
            TestAdapter.Tensor("layer.0.lora_A.weight", (0..<96).map { _ in next() }, dtype: dtype, shape: [8, 12]),
            TestAdapter.Tensor("layer.0.lora_B.weight", (0..<48).map { _ in next() / 10 }, dtype: dtype, shape: [6, 8]),
            TestAdapter.Tensor("magnitude", (0..<6).map { _ in 1 + next() }, dtype: dtype),
        ], to: path)
        return try SafeTensorsFile(path: path)
    }

    /// log g of checkpoint `i` for loss weighting with p = 1 and a wandering loss.
    func score(_ i: Int) -> Double { -log(3 + sin(Double(i)) + Double(i) / 100) }

    @Test(arguments: [DType.f32, .bf16])
    func twoHundredIncrementalUpdatesStayWithinOneMillionthOfAFullMerge(_ dtype: DType) throws {
        let window = 5
        var files: [Int: SafeTensorsFile] = [:]
        func member(_ i: Int) throws -> WindowSum.Member {
            if files[i] == nil { files[i] = try adapter(i, dtype: dtype) }
            return WindowSum.Member(key: "\(i)", file: files[i]!, score: score(i))
        }
        // Exact start: the first window.
        var statePath = dir.file("sum-0.safetensors")
        try WindowSum.write(previous: nil, adding: try (0..<window).map(member), removing: [], dtypes: files[0]!,
                                output: MergeOutput(path: dir.file("out-0.safetensors"), metadata: [:]), statePath: statePath, fingerprint: "t")
        var worst = 0.0
        for update in 1...200 {
            let previous = try #require(WindowSum.State(path: statePath))
            let newest = window - 1 + update
            let output = dir.file("out-\(update).safetensors")
            let nextState = dir.file("sum-\(update).safetensors")
            try WindowSum.write(previous: previous, adding: [try member(newest)], removing: [try member(newest - window)],
                                    dtypes: files[newest]!, output: MergeOutput(path: output, metadata: [:]), statePath: nextState, fingerprint: "t")
            try? FileManager.default.removeItem(atPath: statePath)
            statePath = nextState
            #expect(WindowSum.State(path: statePath)?.updates == update)
            #expect(WindowSum.State(path: statePath)?.members.keys.sorted() == ((newest - window + 1)...newest).map { "\($0)" }.sorted())

            if update % 20 == 0 || update == 1 {
                worst = max(worst, try deviation(output, members: try ((newest - window + 1)...newest).map(member), update: update, dtype: dtype))
            }
            try? FileManager.default.removeItem(atPath: output)
        }
        // F32 output: relative 1e-6; BF16 output: the same sums rounded to BF16 may land
        // one BF16 step apart where the exact value sits on a rounding boundary.
        #expect(worst <= (dtype == .f32 ? 1e-6 : 0x1p-8), "worst relative deviation \(worst)")
    }

    /// Largest |incremental − full| / max|full| over the tensors.
    func deviation(_ output: String, members: [WindowSum.Member], update: Int, dtype: DType) throws -> Double {
        let total = members.map { exp($0.score) }.reduce(0, +)
        let inputs = members.map { MergeInput(name: $0.key, file: $0.file, weight: exp($0.score) / total) }
        let full = dir.file("full-\(update).safetensors")
        try LinearMerge.write(inputs, to: full, metadata: [:])
        let a = try SafeTensorsFile(path: output)
        let b = try SafeTensorsFile(path: full)
        var worst = 0.0
        for tensor in b.tensors {
            let x = TestAdapter.values(a, tensor.name)
            let y = TestAdapter.values(b, tensor.name)
            let scale = y.map(abs).max() ?? 1
            worst = max(worst, zip(x, y).map { abs($0 - $1) / scale }.max() ?? 0)
        }
        return worst
    }

    /// The sum is not fsynced; what a power cut can leave of it fails its checksum.
    @Test func aSumThatDoesNotMatchItsChecksumIsIgnored() throws {
        let members = try (0..<3).map { WindowSum.Member(key: "\($0)", file: try adapter($0), score: score($0)) }
        let state = dir.file("sum.safetensors")
        try WindowSum.write(previous: nil, adding: members, removing: [], dtypes: members[0].file,
                            output: MergeOutput(path: dir.file("out.safetensors"), metadata: [:]), statePath: state, fingerprint: "t")
        #expect(WindowSum.State(path: state) != nil)
        let whole = try Data(contentsOf: URL(fileURLWithPath: state))
        let check = try Data(contentsOf: URL(fileURLWithPath: WindowSum.checkPath(state)))
        func damaged(_ bytes: Data) throws -> Bool {
            try bytes.write(to: URL(fileURLWithPath: state), options: .atomic)  // a new file: not the one this process wrote
            return WindowSum.State(path: state) == nil
        }
        var zeroed = whole
        zeroed.replaceSubrange((whole.count - 64)..<whole.count, with: Data(count: 64))
        #expect(try damaged(zeroed), "a zeroed block")
        var flipped = whole
        flipped[whole.count - 300] ^= 0x01
        #expect(try damaged(flipped), "one bit")
        #expect(try !damaged(whole), "the sum as written")
        try FileManager.default.removeItem(atPath: WindowSum.checkPath(state))
        #expect(WindowSum.State(path: state) == nil, "no checksum beside it")
        try check.write(to: URL(fileURLWithPath: WindowSum.checkPath(state)))
        #expect(WindowSum.State(path: state) != nil)
    }

    /// Fed in pieces of any size, the checksum is that of the whole; moving a block changes it.
    @Test func theChecksumDoesNotDependOnHowTheBytesArrive() {
        let bytes = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
        let whole = bytes.withUnsafeBytes { SumChecksum(of: $0).hex }
        var pieces = SumChecksum()
        var start = 0
        for size in [3, 5, 8, 1, 13, 200, 7] + Array(repeating: 64, count: 20) where start < bytes.count {
            let end = min(bytes.count, start + size)
            bytes[start..<end].withUnsafeBytes { pieces.update($0) }
            start = end
        }
        bytes[start...].withUnsafeBytes { pieces.update($0) }
        #expect(pieces.hex == whole)
        let moved = Array(bytes[64..<128] + bytes[0..<64] + bytes[128...])
        #expect(moved.withUnsafeBytes { SumChecksum(of: $0).hex } != whole)
        #expect(whole.count == 32)
    }

    @Test func aStateThatIsNotOneIsIgnored() throws {
        let path = dir.write("garbage.safetensors", "not a state")
        #expect(WindowSum.State(path: path) == nil)
        #expect(WindowSum.State(path: dir.file("absent")) == nil)
        let plain = try adapter(1)  // a valid safetensors file without the sum's metadata
        #expect(WindowSum.State(path: plain.path) == nil)
    }
}
