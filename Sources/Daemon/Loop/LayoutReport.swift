import Ingest
import Ledger
import Logging
import Publish

/// Says which layout the run is read in, and how its merges are published: at start
/// (named, or `auto` not decided yet), and once `auto` decides, with what showed it;
/// in the log and in the ledger for status. Also logs, once each, the problems met in
/// the run's logs.
struct LayoutReport {
    let layout: any TrainerLayout
    let publication: any PublicationTarget
    /// `publish` as configured.
    let publish: String
    let ledger: Ledger
    let logger: Logger
    private var told: String?
    private var toldPublication: String?

    init(layout: any TrainerLayout, publication: any PublicationTarget, publish: String, ledger: Ledger, logger: Logger) {
        self.layout = layout
        self.publication = publication
        self.publish = publish
        self.ledger = ledger
        self.logger = logger
    }

    /// The publication in words: `file (publish: auto, the flat layout's)`; nil while
    /// it waits on `auto` to decide the layout.
    var publicationText: String? {
        guard publish == "auto" else { return "\(publication.name) (publish)" }
        if let auto = layout as? AutoLayout {
            guard let decision = auto.decision else { return nil }
            return "\(publication.name) (publish: auto, the \(decision.layout.name) layout's)"
        }
        return "\(publication.name) (publish: auto, the \(layout.name) layout's)"
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
        if let publishing = publicationText, publishing != toldPublication {
            logger.notice("publication: \(publishing)")
            try? ledger.setPublication(publishing)
            toldPublication = publishing
        }
        for problem in layout.takeLogProblems() { logger.warning("in the run's log: \(problem)") }
    }
}
