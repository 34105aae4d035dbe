import Foundation

/// One line on stderr: `mwad: error: …`. Errors are never shown as a stack trace.
func printError(_ error: any Error) {
    FileHandle.standardError.write(Data("mwad: error: \(error)\n".utf8))
}

/// One line on stderr: `mwad: warning: …`.
func printWarning(_ text: String) {
    FileHandle.standardError.write(Data("mwad: warning: \(text)\n".utf8))
}

/// A failure the command itself reports, as one line.
struct CommandError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
