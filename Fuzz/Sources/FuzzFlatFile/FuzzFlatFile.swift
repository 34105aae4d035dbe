import Foundation
import Ingest
import SafeTensors

/// Any bytes as a kohya or ai-toolkit checkpoint file: the first line is its name, the
/// rest its content. No crash; the name rules keep to `.safetensors` names; the
/// `pread` header reader judges the file as the mapped reader does; an epoch file's
/// step is its `ss_steps` exactly when that is a step number.
let folder: String = {
    let path = "/dev/shm/mwad-fuzz-flat-\(getpid())"
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    let cut = bytes.firstIndex(of: 10) ?? size
    // A name a folder can hold: no slash or NUL, not empty, at most 200 bytes.
    var name = String(decoding: bytes[..<min(cut, 200)], as: UTF8.self).map { $0 == "/" || $0 == "\0" ? "_" : $0 }
    if name.isEmpty || name.allSatisfy({ $0 == "." }) { name = ["x"] }
    let file = String(name)
    let content = cut < size ? Data(bytes[(cut + 1)...]) : Data()
    let path = "\(folder)/\(file)"
    guard FileManager.default.createFile(atPath: path, contents: content) else { return 0 }
    defer { unlink(path) }

    let flat = FlatName(file)
    precondition(flat == nil || file.hasSuffix(".safetensors"), "\(file) taken for a checkpoint")
    let mapped = content.withUnsafeBytes { try? SafeTensorsFile.validate($0) }
    let read = try? SafeTensorsHeader.read(path: path)
    precondition((mapped == nil) == (read == nil) && (read.map { $0.tensors == mapped } ?? true), "the two readers disagree")

    let layout = FlatLayout()
    let named = layout.classify(file, in: folder)
    if case .kohyaEpoch = flat, let read, let text = read.metadata?["ss_steps"], let step = Int64(text), step >= 0 {
        precondition(named == .checkpoint(step: step), "\(file): ss_steps \(text) read as \(named)")
    }
    if case .checkpoint = named {
        _ = layout.completion(of: path, now: Date(), settleTime: 0)
    }
    return 0
}
