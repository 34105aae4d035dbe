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
