import Foundation
import Ingest

/// Any bytes as mwad_metrics.json: an IngestError, or a one-entry state at its step.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    check(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}

private func check(_ bytes: UnsafeRawBufferPointer) {
    guard let state = try? MetricsSidecar.decode(Data(bytes), path: "mwad_metrics.json") else { return }
    precondition(state.logHistory.count == 1 && state.globalStep == state.logHistory[0].step)
    for metric in Metric.allCases {
        _ = state.value(of: metric, atStep: state.globalStep ?? 0, smoothing: 2)
    }
}
