import Foundation
import Ingest
import Ledger
import Logging
import Synchronization

/// Publishes adapters into the serving engine, off the merge's path: each offered
/// folder becomes an immutable version (``ServedVersion``) at once, and is loaded in
/// the background, one at a time, the newest offered winning over any still waiting. A
/// load is tried twice (bounded by `serve.timeout` each); a server that is down or
/// refuses is one line in the log (once per kind of failure, until a load works) and
/// in the ledger for status, and the next offer is tried again. Versions beyond
/// `serve.keep` are pruned, never the one the server has loaded.
final class ServingPublisher: Sendable {
    let settings: ServeSettings
    let ledger: Ledger
    let logger: Logger
    let client: ServerClient

    private struct State {
        var pending: ServedVersion?
        var running: Task<Void, Never>?
        /// Loaded in this process's life: later loads replace it in place.
        var loadedOnce = false
        var lastFailureKind: String?
    }

    private let state = Mutex(State())

    init(settings: ServeSettings, ledger: Ledger, logger: Logger) {
        self.settings = settings
        self.ledger = ledger
        self.logger = logger
        let token = settings.tokenFile.flatMap { try? String(contentsOfFile: $0, encoding: .utf8) }?
            .trimmingCharacters(in: .whitespacesAndNewlines)
        client = ServerClient(base: settings.url, token: token, timeout: settings.timeout)
    }

    /// Queues `version` for loading (the newest offer wins over one still waiting);
    /// returns at once. Queued before it returns: a ``drain()`` after it waits for it.
    func offer(_ version: ServedVersion) {
        state.withLock { state in
            state.pending = version
            if state.running == nil { state.running = Task { await self.drainPending() } }
        }
    }

    /// Says why a version could not even be made (a layout without a PEFT config).
    func failed(_ text: String) {
        report(text, kind: "make")
    }

    /// Waits until every offered version was tried.
    func drain() async {
        while let task = state.withLock({ $0.running }) { await task.value }
    }

    /// Loads what is pending until nothing is; then says it no longer runs, in the
    /// same step as it finds nothing (an offer after that starts a new drainer).
    private func drainPending() async {
        while let version = state.withLock({ state -> ServedVersion? in
            defer { state.pending = nil }
            if state.pending == nil { state.running = nil }
            return state.pending
        }) {
            await load(version)
        }
    }

    private func load(_ version: ServedVersion) async {
        let loadedOnce = state.withLock { $0.loadedOnce }
        var answer = await client.load(name: settings.name, path: version.path, inPlace: loadedOnce)
        if case .alreadyLoaded = answer {  // loaded by an earlier daemon, or by hand: replace it
            answer = await client.load(name: settings.name, path: version.path, inPlace: true)
        }
        if case .unreachable = answer {
            try? await Task.sleep(nanoseconds: 1_000_000_000)
            answer = await client.load(name: settings.name, path: version.path, inPlace: loadedOnce)
            if case .alreadyLoaded = answer { answer = await client.load(name: settings.name, path: version.path, inPlace: true) }
        }
        let what = "\((version.path as NSString).lastPathComponent) (step \(version.step.map(String.init) ?? "?"), rank \(version.rank)"
            + (version.truncationError.map { String(format: ", truncated from a higher rank: relative error %.3g", $0) } ?? "") + ")"
        switch answer {
        case .loaded:
            let failing = state.withLock { state in
                defer { (state.loadedOnce, state.lastFailureKind) = (true, nil) }
                return state.lastFailureKind != nil
            }
            if failing { logger.notice("serving: \(settings.url) answers again") }
            logger.info("serving: \(settings.url) loaded \(what) as \(settings.name)")
            do {
                try ledger.recordServed(url: settings.url, name: settings.name, version: version.path, step: version.step, rank: version.rank,
                                        truncationError: version.truncationError)
            } catch {
                logger.error("serving: cannot record the load in the ledger: \(error)")
            }
            await prune(loaded: version.path)
        case .refused(let status, let message):
            report("\(settings.url) refused \(what): HTTP \(status): \(message)", kind: "refused \(status)")
        case .alreadyLoaded(let message):
            report("\(settings.url) refused \(what): \(message)", kind: "already")
        case .unreachable(let reason):
            report("\(settings.url) did not take \(what): \(reason); the next one is tried again", kind: "unreachable")
        }
    }

    private func report(_ text: String, kind: String) {
        let repeated = state.withLock { state in
            defer { state.lastFailureKind = kind }
            return state.lastFailureKind == kind
        }
        if repeated { logger.debug("serving: \(text)") } else { logger.warning("serving: \(text)") }
        try? ledger.recordServingFailure(url: settings.url, name: settings.name, text)
    }

    /// Keeps the newest `serve.keep` versions and whatever the server has loaded.
    private func prune(loaded: String) async {
        let fm = FileManager.default
        let prefix = "\(settings.name)-"
        guard let names = try? fm.contentsOfDirectory(atPath: settings.directory) else { return }
        let versions = names.filter { $0.hasPrefix(prefix) }.map { "\(settings.directory)/\($0)" }.sorted { a, b in
            let ta = (try? fm.attributesOfItem(atPath: a)[.modificationDate] as? Date) ?? .distantPast
            let tb = (try? fm.attributesOfItem(atPath: b)[.modificationDate] as? Date) ?? .distantPast
            return ta > tb
        }
        let inUse = Set((await client.loadedAdapters() ?? [:]).values).union([loaded])
        for old in versions.dropFirst(settings.keep) where !inUse.contains(old) {
            try? fm.removeItem(atPath: old)
        }
    }
}
