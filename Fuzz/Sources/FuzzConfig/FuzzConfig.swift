import Daemon
import Dispatch
import Foundation

// Any bytes as the YAML config file: a ConfigError naming the key or the file, or a
// configuration. The loader reads from a path, so each input is written to one first.
let path = "\(ProcessInfo.processInfo.environment["TMPDIR"] ?? "/tmp")/mwad-fuzz-config-\(getpid()).yaml"

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    check(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}

private func check(_ bytes: UnsafeRawBufferPointer) {
    guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else { fatalError("cannot write \(path)") }
    let done = DispatchSemaphore(value: 0)
    Task {
        _ = try? await ConfigLoader.load(file: path, environment: [:], flags: [:])
        done.signal()
    }
    done.wait()
}
