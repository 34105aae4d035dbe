import Dispatch
import Foundation
import SafeTensors

/// The buffers of a streaming merge (one chunk of accumulators and one of output) and
/// the split of each chunk across the cores.
final class Workspace {
    let chunk: Int
    let floats: UnsafeMutablePointer<Float>
    let doubles: UnsafeMutablePointer<Double>
    let output: UnsafeMutableRawPointer
    let workers: Int

    /// Below this many elements a part is not worth a thread.
    static let minimumPart = 1 << 15

    init(chunk: Int, workers: Int = ProcessInfo.processInfo.activeProcessorCount) {
        self.chunk = chunk
        self.workers = max(1, workers)
        floats = .allocate(capacity: chunk)
        doubles = .allocate(capacity: chunk)
        output = .allocate(byteCount: chunk * 8, alignment: 64)
    }

    deinit {
        floats.deallocate()
        doubles.deallocate()
        output.deallocate()
    }

    /// Merges elements `offset..<offset+count` of `terms` into ``output`` as `dtype`;
    /// false when a result is not finite. With `keepSums`, the sums are made in F64 and
    /// left in ``doubles`` (the running window sum), and the output is sums × `scale`.
    func merge(_ terms: [Term], offset: Int, count: Int, dtype: DType, keepSums: Bool = false, scale: Double = 1) -> Bool {
        let parts = max(1, min(workers, count / Self.minimumPart))
        let finite = UnsafeMutableBufferPointer<Bool>.allocate(capacity: parts)
        defer { finite.deallocate() }
        let job = Job(terms: terms, offset: offset, count: count, parts: parts, dtype: dtype, wide: keepSums || dtype == .f64,
                      scale: scale, floats: floats, doubles: doubles, output: output, finite: finite)
        DispatchQueue.concurrentPerform(iterations: parts) { job.run(part: $0) }
        return finite.allSatisfy { $0 }
    }
}

/// One chunk's work, split into parts that touch disjoint ranges of the buffers
/// (hence @unchecked Sendable: no two parts share an element).
private struct Job: @unchecked Sendable {
    let terms: [Term]
    let offset: Int
    let count: Int
    let parts: Int
    let dtype: DType
    /// Accumulate in F64 (F64 tensors, and the running sum).
    let wide: Bool
    let scale: Double
    let floats: UnsafeMutablePointer<Float>
    let doubles: UnsafeMutablePointer<Double>
    let output: UnsafeMutableRawPointer
    let finite: UnsafeMutableBufferPointer<Bool>

    func run(part: Int) {
        let start = count * part / parts
        let n = count * (part + 1) / parts - start
        let out = output + start * dtype.size
        if wide {
            Kernels.combine(terms, offset: offset + start, count: n, into: doubles + start)
            finite[part] = Kernels.allFinite(doubles + start, n)
            Kernels.encode(doubles + start, n, scale: scale, as: dtype, into: out)
        } else {
            Kernels.combine(terms, offset: offset + start, count: n, into: floats + start)
            finite[part] = Kernels.allFinite(floats + start, n)
            Kernels.encode(floats + start, n, as: dtype, into: out)
        }
    }
}
