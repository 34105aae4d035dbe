import Foundation
import Ingest
import Merge
import SafeTensors
import Settings

/// `max_rank`: a merge whose LoRA rank exceeds the cap is published as its truncated
/// SVD at the cap (the svd method over the one merged adapter: the best rank-k
/// approximation of its ΔW), with its former rank and relative error in the report; a
/// merge within the cap is published as written, byte for byte (delta stays exact).
///
/// The merge is written beside the output first (`<adapter>.uncapped`), its rank read
/// from the file: whichever method or running sum made it.
///
/// Serving's `serve.max_rank` caps a published adapter the same way (``truncate(_:rank:config:format:to:report:)``).
public struct RankCap: Sendable {
    public let maxRank: Int

    public init(maxRank: Int) { self.maxRank = maxRank }

    /// The truncated SVD published in the merge's place: its report (the merge's, with
    /// the SVD's ranks, errors and the former rank), the svd method and its one input.
    public struct Capped {
        public var report: MergeReport
        public var method: SVDMethod
        public var inputs: [MergeInput]
    }

    /// The largest LoRA rank in `file`: the rows of its `lora_A` (`lora_down`) factors.
    public static func rank(of file: SafeTensorsFile) -> Int {
        file.tensors.filter { ($0.name.contains("lora_A") || $0.name.contains("lora_down")) && $0.shape.count >= 2 }
            .map { $0.shape[0] }.max() ?? 0
    }

    /// Where the merge is written first, beside `adapter` (the caller removes it).
    func scratch(for adapter: MergeOutput) -> MergeOutput {
        let scratch = MergeOutput(path: adapter.path + ".uncapped", metadata: adapter.metadata, sync: false, writeback: false)
        try? FileManager.default.removeItem(atPath: scratch.path)
        return scratch
    }

    /// `adapter` from the merge `method` wrote at `written`: that file moved into
    /// place where its rank is within the cap (nil), else its truncated SVD at the cap.
    func finish(method: any MergeMethod, inputs merged: [MergeInput], report made: MergeReport, written: String, as adapter: MergeOutput,
                newestConfig: String?, format: AdapterFormat) throws(PublishError) -> Capped? {
        let file: SafeTensorsFile
        do { file = try SafeTensorsFile(path: written) } catch {
            throw .io(path: written, operation: "reading the merge", reason: error.description)
        }
        let rank = Self.rank(of: file)
        guard rank > maxRank else {
            try adopt(written, as: adapter)
            return nil
        }
        // The merged adapter's own config: the method's rewritten one, else the newest member's.
        var config: AdapterConfig?
        do throws(MergeError) {
            let data = try method.adapterConfig(for: merged, report: made)
                ?? newestConfig.flatMap { FileManager.default.contents(atPath: $0) }
            if let data { config = try AdapterConfig(data: data, source: "the merge's adapter_config.json") }
        } catch { throw .merge(error) }
        return try truncate(file, rank: rank, config: config, format: format, to: adapter, report: made)
    }

    /// The adapter `file` (of LoRA rank `rank`, above the cap) as its truncated SVD at
    /// the cap, written to `adapter`; `report` with the SVD's ranks and errors and
    /// `capped_from`. A file the svd method cannot take is refused with why.
    public func truncate(_ file: SafeTensorsFile, rank: Int, config: AdapterConfig?, format: AdapterFormat, to adapter: MergeOutput,
                         report made: MergeReport = MergeReport()) throws(PublishError) -> Capped {
        let svd = SVDMethod(rank: maxRank)
        let inputs = [MergeInput(name: "the merge (rank \(rank))", file: file, weight: 1, config: config, format: format)]
        var report = made
        do throws(MergeError) {
            try svd.checkMember(inputs[0], reference: nil)
            let capped = try svd.write(inputs, to: adapter)
            (report.rank, report.rankPattern, report.moduleErrors) = (capped.rank, capped.rankPattern, capped.moduleErrors)
            report.truncationError = capped.truncationError
            report.cappedFrom = rank
        } catch {
            if case .unsupportedAdapter(_, _, let reason) = error { throw .cannotCapRank(rank: rank, maxRank: maxRank, reason: reason) }
            throw .merge(error)
        }
        withExtendedLifetime(file) {}
        return Capped(report: report, method: svd, inputs: inputs)
    }

    /// Moves the merge written at `path` into place as `adapter`: what ``MergeOutput``
    /// promises (its observer sees every byte; fsync where it says) without a rewrite.
    private func adopt(_ path: String, as adapter: MergeOutput) throws(PublishError) {
        guard rename(path, adapter.path) == 0 else {
            throw .io(path: adapter.path, operation: "rename", reason: String(cString: strerror(errno)))
        }
        guard adapter.observer != nil || adapter.sync else { return }
        let fd = open(adapter.path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .io(path: adapter.path, operation: "open", reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        if let observer = adapter.observer {
            var buffer = [UInt8](repeating: 0, count: 1 << 20)
            while true {
                let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if n < 0, errno == EINTR { continue }
                guard n >= 0 else { throw .io(path: adapter.path, operation: "read", reason: String(cString: strerror(errno))) }
                if n == 0 { break }
                buffer.withUnsafeBytes { observer(UnsafeRawBufferPointer(rebasing: $0[..<n])) }
            }
        }
        if adapter.sync, fsync(fd) != 0 { throw .io(path: adapter.path, operation: "fsync", reason: String(cString: strerror(errno))) }
    }
}
