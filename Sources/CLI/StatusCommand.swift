import ArgumentParser
import Foundation
import Ingest
import Ledger
import Settings
import Status

/// `mwad status`: what has been ingested, what is in the merge, is the daemon healthy.
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show what the ledger holds: checkpoints, the current merge, the daemon's health.",
        discussion: """
            Reads the ledger without writing to it; safe while the daemon runs. Without \
            --ledger or --watch, lists the ledgers found in $STATE_DIRECTORY, /var/lib/mwad/*/ \
            and $XDG_STATE_HOME/mwad/*/; --watch finds the ledger of that run among them. \
            A daemon started with --state-dir keeps its ledger there: give the same --state-dir.
            """
    )

    @OptionGroup var source: LedgerSource

    @Flag(help: "Print the documented JSON object instead of the human view.")
    var json = false

    @Flag(help: "List every checkpoint.")
    var all = false

    func run() throws {
        let environment = ProcessInfo.processInfo.environment
        do {
            guard source.isGiven else { return try list(environment) }
            let path = try source.ledgerPath(environment: environment)
            let reader = try LedgerReader(path: path)
            let report = StatusReport(ledger: path, snapshot: try reader.snapshot(), now: Date(), all: all, words: Catalog.words,
                                      daemonState: { DaemonState.of($0, now: Date()) })
            print(json ? report.json() : HumanView.render(report))
        } catch {
            printError(error)
            throw ExitCode.failure
        }
    }

    /// The ledger whose run watches `watch`, among the known ones (else its default path).
    static func find(watch: String, _ environment: [String: String]) throws -> String {
        let known = LedgerLocation.knownLedgers(environment: environment)
        if let match = known.first(where: { (try? LedgerReader(path: $0).snapshot().run?.watchPath) == watch }) { return match }
        let fallback = LedgerLocation.ledger(watch: watch, environment: environment)
        guard FileManager.default.fileExists(atPath: fallback) else {
            // The one case a search cannot cover: a daemon given its own --state-dir.
            throw CommandError("no ledger for \(watch) in $STATE_DIRECTORY, /var/lib/mwad/*/ or $XDG_STATE_HOME/mwad/*/; "
                + "if mwad ran with --state-dir DIR (or state_directory in its config), give the same --state-dir DIR")
        }
        return fallback
    }

    /// One line per known ledger: its run, its daemon, its last step and merge.
    private func list(_ environment: [String: String]) throws {
        let known = LedgerLocation.knownLedgers(environment: environment)
        guard !known.isEmpty else {
            throw CommandError("no ledger found in $STATE_DIRECTORY, /var/lib/mwad/*/ or $XDG_STATE_HOME/mwad/*/; give --ledger FILE or --watch DIR")
        }
        let now = Date()
        let reports = known.compactMap { path -> StatusReport? in
            guard let snapshot = try? LedgerReader(path: path).snapshot() else { return nil }
            return StatusReport(ledger: path, snapshot: snapshot, now: now, all: false, words: Catalog.words, daemonState: { DaemonState.of($0, now: now) })
        }
        if json {
            print("[" + reports.map { $0.json() }.joined(separator: ",\n") + "]")
        } else {
            print(HumanView.list(reports))
        }
    }
}
