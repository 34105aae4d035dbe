import ArgumentParser
import Daemon
import Foundation
import HostFileSystem

/// One line on stderr: `mwad: error: …`. Errors are never shown as a stack trace.
func printError(_ error: any Error) {
    Posix.writeToStandardError("mwad: error: \(error)\n")
}

/// One line on stderr: `mwad: warning: …`.
func printWarning(_ text: String) {
    Posix.writeToStandardError("mwad: warning: \(text)\n")
}

/// A failure the command itself reports, as one line.
struct CommandError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// The exit status for `error`, said on stderr first (an `ExitCode` already was):
/// 78 (EX_CONFIG) for an unusable configuration — the systemd unit lists it in
/// `RestartPreventExitStatus=`, so that a daemon whose configuration cannot work is
/// not restarted — and 1 for anything else.
func failureExit(reporting error: any Error) -> ExitCode {
    if let code = error as? ExitCode { return code }
    printError(error)
    return error is ConfigError ? ExitCode(EX_CONFIG) : .failure
}
