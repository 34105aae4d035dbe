import Foundation
import Ingest

/// Any bytes as trainer_state.json: an IngestError, or a state whose metrics can be
/// read at any step without trapping.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    check(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}

private func check(_ bytes: UnsafeRawBufferPointer) {
    guard let state = try? TrainerState.decode(Data(bytes), path: "trainer_state.json") else { return }
    let steps = Set(state.logHistory.compactMap(\.step)).union([0, 1, .max, .min]).union(state.globalStep.map { [$0] } ?? [])
    for step in steps.prefix(64) {
        for metric in Metric.allCases {
            for smoothing in [1, 3, 1000] {
                _ = state.value(of: metric, atStep: step, smoothing: smoothing)
            }
        }
    }
}
