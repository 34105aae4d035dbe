import Foundation
import Ledger
import Logging
import MetricsExport

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
        guard let writer else { return }
        do {
            let snapshot = try ledger.snapshot()
            try writer.write(MetricsSnapshot.exposition(snapshot, up: up))
        } catch {
            reporter.report("cannot write the metrics file \(writer.path)", error)
        }
    }
}
