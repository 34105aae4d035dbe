import Foundation
import SafeTensors

/// The rolling window kept as a running sum, so that a new checkpoint costs the same
/// whatever the window's size.
///
/// MWA weights are w_i = g_i / G with g_i depending on checkpoint i alone, so the
/// daemon keeps S = Σ g_i·θ_i (in F64, per element) and G = Σ g_i. A new checkpoint
/// adds g·θ, an evicted one subtracts it, and the published merge is S/G. One pass
/// over the old sum and the changed members writes both the new sum (the state) and
/// the merge. g_i = exp(score_i − reference): scores are the weighting's log g, taken
/// relative to a reference kept with the sum so that nothing overflows.
public enum WindowSum {
    /// A checkpoint entering or leaving the sum.
    public struct Member: Sendable {
        public var key: String
        public var file: SafeTensorsFile
        /// log g (the weighting method's log score).
        public var score: Double

        public init(key: String, file: SafeTensorsFile, score: Double) {
            self.key = key
            self.file = file
            self.score = score
        }
    }

    /// A persisted sum: S in F64 tensors, with G, the reference, the members' keys
    /// and scores, and how many incremental updates it has seen since an exact one.
    public struct State: Sendable {
        public var file: SafeTensorsFile
        public var total: Double
        public var reference: Double
        public var members: [String: Double]
        public var updates: Int
        public var fingerprint: String

        /// Opens a state written by ``write(previous:adding:removing:dtypes:output:statePath:fingerprint:)``;
        /// nil when absent, unreadable, or not matching its checksum (then the sum is
        /// recomputed exactly). The check reads the sum once, from the page cache.
        public init?(path: String) {
            guard let file = try? SafeTensorsFile(path: path),
                  let saved = try? String(contentsOfFile: WindowSum.checkPath(path), encoding: .utf8),
                  Self.matches(file, checksum: saved),
                  let meta = file.metadata,
                  let total = meta["mwad_sum_total"].flatMap(Double.init), total > 0,
                  let reference = meta["mwad_sum_reference"].flatMap(Double.init),
                  let updates = meta["mwad_sum_updates"].flatMap(Int.init),
                  let fingerprint = meta["mwad_sum_fingerprint"],
                  let data = meta["mwad_sum_members"]?.data(using: .utf8),
                  let members = try? JSONDecoder().decode([String: Double].self, from: data) else { return nil }
            self.file = file
            self.total = total
            self.reference = reference
            self.members = members
            self.updates = updates
            self.fingerprint = fingerprint
        }

        private static func matches(_ file: SafeTensorsFile, checksum: String) -> Bool {
            if VerifiedSums.contains(file.path, checksum: checksum) { return true }
            guard withExtendedLifetime(file, { SumChecksum(of: file.fileBytes).hex }) == checksum else { return false }
            VerifiedSums.insert(file.path, checksum: checksum)
            return true
        }
    }

    /// Writes the merge to `output` (a new file) and the new sum to `statePath` in one
    /// pass: S' = S + Σ g·θ(adding) − Σ g·θ(removing), merge = S'/G'. With no
    /// `previous`, S' is computed from `adding` alone (an exact recomputation).
    /// `dtypes` gives each tensor's output dtype (the members'). The sum is not
    /// fsynced: its checksum, written beside it (``checkPath(_:)``), tells a sum that
    /// did not reach the disk whole. A file at `statePath` (the sum before the last,
    /// kept as scratch) is written over in place: its pages are reused.
    /// `rebase` moves the reference there (S and G scaled by exp(old − new)), so that
    /// a running average whose scores keep growing (an EMA over the whole run) never
    /// overflows and needs no recomputation from members that are gone.
    public static func write(previous: State?, adding: [Member], removing: [Member], dtypes: SafeTensorsFile,
                             output: MergeOutput, statePath: String, fingerprint: String, rebase: Double? = nil) throws(MergeError) {
        let reference = rebase ?? previous?.reference ?? (adding.map(\.score).max() ?? 0)
        let factor = previous.map { exp($0.reference - reference) } ?? 1
        let g = { (member: Member) in exp(member.score - reference) }
        let total = (previous?.total ?? 0) * factor + adding.map(g).reduce(0, +) - removing.map(g).reduce(0, +)
        var members = previous?.members ?? [:]
        for member in removing { members[member.key] = nil }
        for member in adding { members[member.key] = member.score }
        guard total > 0, total.isFinite else { throw .nonFinite(tensor: "(window weight total)", member: nil) }
        let memberScores: Data
        do { memberScores = try JSONEncoder().encode(members) } catch {
            throw .output(SafeTensorsError(file: checkPath(statePath), rule: .writeFailed("the members' scores: \(error)")))
        }
        let stateMeta = [
            "mwad_sum_total": "\(total)", "mwad_sum_reference": "\(reference)",
            "mwad_sum_updates": "\(previous.map { $0.updates + 1 } ?? 0)", "mwad_sum_fingerprint": fingerprint,
            "mwad_sum_members": String(decoding: memberScores, as: UTF8.self),
        ]
        let outWriter = try output.open(dtypes.tensors.map { TensorSpec(name: $0.name, dtype: $0.dtype, shape: $0.shape) })
        // State tensors are named "<position in the output>/<name>", so that both files
        // list the tensors in the same order and are written in the same pass.
        let sumSpecs = outWriter.layout.enumerated().map { index, info in
            TensorSpec(name: stateName(index, info.name), dtype: .f64, shape: info.shape)
        }
        var checksum = SumChecksum()
        let sumOutput = MergeOutput(path: statePath, metadata: stateMeta, sync: false, writeback: false, overwrite: true) {
            checksum.update($0)
        }
        let sumWriter = try sumOutput.open(sumSpecs)
        let workspace = Workspace(chunk: LinearMerge.chunkElements)
        try withExtendedLifetime((previous, adding, removing, dtypes)) { () throws(MergeError) in
            for (index, info) in outWriter.layout.enumerated() {
                let terms = try terms(for: info, state: stateName(index, info.name), previous: previous, factor: factor,
                                      adding: adding, removing: removing, g: g)
                try stream(info, terms: terms, scale: 1 / total, workspace: workspace, sum: sumWriter, out: outWriter)
            }
        }
        try sumOutput.finish(sumWriter)
        try output.finish(outWriter)
        do { try checksum.hex.write(toFile: checkPath(statePath), atomically: false, encoding: .utf8) } catch {
            throw .output(SafeTensorsError(file: checkPath(statePath), rule: .writeFailed("\(error)")))
        }
        VerifiedSums.insert(statePath, checksum: checksum.hex)
    }

    /// The file holding the checksum of the sum at `statePath`.
    public static func checkPath(_ statePath: String) -> String { statePath + ".check" }

    static func stateName(_ index: Int, _ name: String) -> String {
        let digits = String(index)
        return String(repeating: "0", count: max(0, 8 - digits.count)) + digits + "/" + name
    }

    private static func terms(for info: TensorInfo, state: String, previous: State?, factor: Double, adding: [Member], removing: [Member],
                              g: (Member) -> Double) throws(MergeError) -> [Term] {
        var terms: [Term] = []
        if let previous {
            guard let sum = previous.file.tensor(named: state), sum.shape == info.shape, sum.dtype == .f64 else {
                throw .tensorMissing(tensor: info.name, presentIn: "the window", missingFrom: "the saved window sum")
            }
            if info.elementCount > 0 { terms.append(Term(base: previous.file.bytes(of: sum).baseAddress!, dtype: .f64, weight: factor)) }
        }
        for (member, sign) in adding.map({ ($0, 1.0) }) + removing.map({ ($0, -1.0) }) {
            guard let tensor = member.file.tensor(named: info.name), tensor.shape == info.shape, tensor.dtype == info.dtype else {
                throw .tensorMissing(tensor: info.name, presentIn: "the window", missingFrom: member.key)
            }
            if info.elementCount > 0 {
                terms.append(Term(base: member.file.bytes(of: tensor).baseAddress!, dtype: tensor.dtype, weight: sign * g(member)))
            }
        }
        return terms
    }

    /// Accumulates one tensor chunk by chunk: raw F64 sums to the state, the scaled and
    /// encoded merge to the output.
    private static func stream(_ info: TensorInfo, terms: [Term], scale: Double, workspace: Workspace,
                               sum: SafeTensorsWriter, out: SafeTensorsWriter) throws(MergeError) {
        var offset = 0
        while offset < info.elementCount {
            let count = min(workspace.chunk, info.elementCount - offset)
            guard workspace.merge(terms, offset: offset, count: count, dtype: info.dtype, keepSums: true, scale: scale) else {
                throw .nonFinite(tensor: info.name, member: nil)
            }
            do {
                try sum.appendChunk(UnsafeRawBufferPointer(start: workspace.doubles, count: count * 8))
                try out.appendChunk(UnsafeRawBufferPointer(start: workspace.output, count: count * info.dtype.size))
            } catch {
                throw .output(error)
            }
            offset += count
        }
    }
}
