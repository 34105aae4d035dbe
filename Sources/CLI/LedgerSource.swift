import ArgumentParser
import Foundation
import Ingest
import Ledger

/// Where `mwad status` and `mwad export` find a ledger: `--ledger`, or `--watch`
/// (searched where mwad keeps ledgers), or `--state-dir`.
struct LedgerSource: ParsableArguments {
    @Option(help: "The ledger file.")
    var ledger: String?

    @Option(help: "The watched run directory (its ledger is searched where mwad keeps ledgers).")
    var watch: String?

    @Option(help: "The state directory the daemon was given with --state-dir (its ledger.sqlite is read).")
    var stateDir: String?

    func validate() throws {
        if ledger != nil && (watch != nil || stateDir != nil) { throw ValidationError("Give either --ledger or --watch/--state-dir, not both.") }
    }

    var isGiven: Bool { ledger != nil || watch != nil || stateDir != nil }

    func ledgerPath(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> String {
        if let ledger { return ledger }
        if let stateDir { return "\(RunDirectory.absolute(stateDir))/\(LedgerLocation.fileName)" }
        return try StatusCommand.find(watch: RunDirectory.absolute(watch!), environment)
    }
}
