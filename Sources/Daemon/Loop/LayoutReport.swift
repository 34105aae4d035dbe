import Ingest
import Ledger
import Logging

/// Says which layout the run is read in: at start (named, or `auto` not decided
/// yet), and once `auto` decides, with what showed it; in the log and in the ledger
/// for status. Also logs, once each, the problems met in the run's logs.
struct LayoutReport {
    let layout: any TrainerLayout
    let ledger: Ledger
    let logger: Logger
    private var told: String?

    init(layout: any TrainerLayout, ledger: Ledger, logger: Logger) {
        self.layout = layout
        self.ledger = ledger
        self.logger = logger
    }

    /// The layout in words, as status shows it.
    var text: String {
        guard let auto = layout as? AutoLayout else { return "\(layout.name) (watch.layout)" }
        guard let decision = auto.decision else { return "auto: not decided yet (no checkpoint of a layout mwad knows so far)" }
        return "\(decision.layout.name) (auto: \(decision.evidence))"
    }

    /// Logs and records the layout when it is new to say; logs new log problems.
    mutating func check() {
        let now = text
        if now != told {
            logger.notice("layout: \(now)")
            try? ledger.setLayout(now)
            told = now
        }
        for problem in layout.takeLogProblems() { logger.warning("in the run's log: \(problem)") }
    }
}
