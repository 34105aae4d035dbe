import ArgumentParser
import Foundation
import Ledger
import Status

/// `mwad status`: what has been ingested, what is in the merge, is the daemon healthy.
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show what the ledger holds: checkpoints, the current merge, the daemon's health.",
        discussion: "Reads the ledger without writing to it; safe while the daemon runs."
    )

    @Option(help: "The ledger file.")
    var ledger: String?

    @Option(help: "The watched run directory (its default ledger is read).")
    var watch: String?

    @Flag(help: "Print the documented JSON object instead of the human view.")
    var json = false

    @Flag(help: "List every checkpoint.")
    var all = false

    func validate() throws {
        if (ledger == nil) == (watch == nil) { throw ValidationError("Give either --ledger or --watch.") }
    }

    func run() throws {
        do {
            let path = ledger ?? LedgerLocation.ledger(watch: watch!, environment: ProcessInfo.processInfo.environment)
            let reader = try LedgerReader(path: path)
            let report = StatusReport(ledger: path, snapshot: try reader.snapshot(), now: Date(), all: all,
                                      daemonState: { DaemonState.of($0, now: Date()) })
            print(json ? report.json() : HumanView.render(report))
        } catch {
            printError(error)
            throw ExitCode.failure
        }
    }
}
