import Foundation
import Ingest

/// Any bytes as torchtune's DiskLogger file: no crash, values in step order, only whole
/// lines read, and nothing new on a second read.
let folder: String = {
    let path = "/dev/shm/mwad-fuzz-disklog-\(getpid())"
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    FileManager.default.createFile(atPath: "\(folder)/log_1.txt", contents: Data(bytes: data, count: size))
    let log = DiskLog(directory: folder, key: "loss")
    log.refresh()
    let points = log.points
    precondition(zip(points, points.dropFirst()).allSatisfy { $0.step < $1.step })
    precondition(log.refresh().isEmpty)
    // A NaN is not equal to itself: compared by its bits.
    precondition(log.points.map { [$0.step, Int64(bitPattern: $0.value.bitPattern)] } == points.map { [$0.step, Int64(bitPattern: $0.value.bitPattern)] })
    return 0
}
