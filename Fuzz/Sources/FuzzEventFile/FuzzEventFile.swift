import Foundation
import TensorBoard

/// Any bytes as a TensorBoard event file: read in full without a crash or a hang, the
/// values in step order, each problem reported once (a second read finds nothing new).
let folder: String = {
    let path = "/dev/shm/mwad-fuzz-events-\(getpid())"
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let path = "\(folder)/events.out.tfevents.1.fuzz"
    FileManager.default.createFile(atPath: path, contents: Data(bytes: data, count: size))
    for tag in ["loss", "train_loss"] {
        let log = ScalarLog(directory: folder, tag: tag)
        log.refresh()
        let points = log.points
        precondition(zip(points, points.dropFirst()).allSatisfy { $0.step < $1.step })
        precondition(log.refresh().isEmpty, "a problem reported twice")
        precondition(log.points.map { [$0.step, Int64(bitPattern: $0.value.bitPattern)] } == points.map { [$0.step, Int64(bitPattern: $0.value.bitPattern)] })
    }
    return 0
}
