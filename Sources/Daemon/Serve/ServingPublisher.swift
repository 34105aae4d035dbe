import Foundation
import Ingest
import Ledger
import Logging
import SettingsValue
import Synchronization

/// Publishes adapters into the serving engine, off the merge's path: each offered
/// folder becomes an immutable version (``ServedVersion``) at once, and is loaded in
/// the background, one at a time, the newest offered winning over any still waiting. A
/// load is tried twice (bounded by `serve.timeout` each); a server that is down or
/// refuses is one line in the log (once per kind of failure, until a load works) and
/// in the ledger for status, and the next offer is tried again. Versions beyond
/// `serve.keep` are pruned, never the one the server has loaded.
///
/// The server is checked every `serve.check_every` seconds (``check(now:)``, on the
/// daemon's clock): where it no longer lists the adapter (it was restarted: runtime
/// loads do not survive), or the latest attempt failed, the wanted version (the newest
/// offered) is loaded again, so a server back up serves the best without waiting for
/// the next one.
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
        /// The newest version offered: what the server should serve.
        var wanted: ServedVersion?
        /// The folder the server loaded last, from this process.
        var loaded: String?
        var lastCheck: Date?
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
            state.wanted = version
            if state.running == nil { state.running = Task { await self.drainPending() } }
        }
    }

    /// Says why a version could not even be made (a layout without a PEFT config).
    func failed(_ text: String) {
        report(text, kind: "make")
    }

    /// Seconds until ``check(now:)`` has work (nil: none, no version was offered).
    func secondsUntilCheck(now: Date) -> Double? {
        guard settings.checkEvery > 0 else { return nil }
        return state.withLock { state in
            guard state.wanted != nil else { return nil }
            if state.running != nil { return settings.checkEvery }  // checked once the load ends
            return max(0, (state.lastCheck.map { settings.checkEvery - now.timeIntervalSince($0) }) ?? 0)
        }
    }

    /// Where a check is due and no load runs: asks the server what it serves, in the
    /// background; the wanted version is loaded again where the server lacks it.
    func check(now: Date) {
        guard settings.checkEvery > 0 else { return }
        state.withLock { state in
            guard let wanted = state.wanted, state.running == nil,
                  state.lastCheck.map({ now.timeIntervalSince($0) >= settings.checkEvery }) ?? true else { return }
            state.lastCheck = now
            state.running = Task { await self.verify(wanted) }
        }
    }

    private func verify(_ wanted: ServedVersion) async {
        switch await client.models() {
        case .success(let adapters) where adapters[settings.name] == wanted.path:
            break
        case .success(let adapters):
            if adapters[settings.name] == nil, state.withLock({ $0.loaded != nil }) {
                logger.notice("serving: \(settings.url) no longer serves \(settings.name) (restarted?): loading it again")
            }
            await load(wanted, replacing: adapters[settings.name] != nil)
        case .failure(let failure):
            report("\(settings.url) does not answer: \(failure.reason); checked again in \(MergeSettings.number(settings.checkEvery)) s", kind: "unreachable")
        }
        await drainPending()
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
            await load(version, replacing: state.withLock { $0.loadedOnce })
        }
    }

    /// Loads `version`, over the adapter of that name where `replacing`.
    private func load(_ version: ServedVersion, replacing loadedOnce: Bool) async {
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
                defer { (state.loadedOnce, state.lastFailureKind, state.loaded) = (true, nil, version.path) }
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
        let inUse = Set(((try? await client.models().get()) ?? [:]).values).union([loaded])
        for old in versions.dropFirst(settings.keep) where !inUse.contains(old) {
            try? fm.removeItem(atPath: old)
        }
    }
}
