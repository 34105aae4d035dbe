import Foundation
import Ledger
import Logging
import MetricsExport
import Settings

/// Keeps `metrics.textfile` up to date: rewritten (atomically) after every change and
/// every heartbeat, and once more with `mwad_up 0` when the daemon stops.
final class MetricsFile {
    private let writer: TextfileWriter?
    private let ledger: Ledger
    private let reporter: FailureReporter

    init(path: String?, ledger: Ledger, reporter: FailureReporter) {
        writer = path.map(TextfileWriter.init)
        self.ledger = ledger
        self.reporter = reporter
    }

    /// Writes the metrics of the ledger as it is now.
    func write(up: Bool) {
        guard writer != nil else { return }
        do { write(try ledger.snapshot(), up: up) } catch {
            reporter.report("cannot read the ledger for the metrics file", error)
        }
    }

    /// Writes the metrics of `snapshot`, one the caller has just read.
    func write(_ snapshot: LedgerSnapshot, up: Bool) {
        guard let writer else { return }
        do { try writer.write(MetricsSnapshot.exposition(snapshot, up: up, words: Catalog.words)) } catch {
            reporter.report("cannot write the metrics file \(writer.path)", error)
        }
    }
}
