@testable import Daemon
import Foundation
import Ingest
import Ledger
import Logging
import MWADTestKit
import Publish
import SafeTensors
import Settings
import Status
import Testing

/// A stand-in for vLLM's runtime LoRA API answering with the replies recorded from a
/// real vLLM 0.32 server (`Tests/Fixtures/vllm-replies`), over real HTTP.
final class ReplayServer {
    let process = Process()
    let log: String
    let url: String

    init(_ replies: [String], in dir: TemporaryDirectory, port: Int? = nil) throws {
        let portFile = dir.file("port-\(UUID().uuidString)")
        log = dir.file("requests-\(UUID().uuidString).jsonl")
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = ["\(Fixtures.root)/vllm-replies/replay.py", portFile, log] + replies + (port.map { ["--port=\($0)"] } ?? [])
        try process.run()
        guard DaemonProcess.waitUntil(timeout: 30, { FileManager.default.fileExists(atPath: portFile) }),
              let port = try? String(contentsOfFile: portFile, encoding: .utf8) else { throw ServeFailure("the replay server did not start") }
        url = "http://127.0.0.1:\(port)"
    }

    var port: Int { URLComponents(string: url)?.port ?? 0 }

    /// The load requests received: their bodies and Authorization headers.
    var requests: [(body: [String: Any], authorization: String?)] {
        ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n").compactMap { line in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  object["method"] as? String == "POST" else { return nil }
            return (object["body"] as? [String: Any] ?? [:], object["authorization"] as? String)
        }
    }

    /// How often the models were listed.
    var modelListings: Int {
        ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n").filter { $0.contains("\"GET\"") }.count
    }

    /// SIGKILL: a child inherits the test process's blocked signals, SIGTERM among them
    /// once a suite has installed its handlers.
    deinit { stop() }

    func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}

@Suite struct ServingTests {
    let dir = TemporaryDirectory("mwad-serving")
    static let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    func settings(_ url: String, maxRank: Int = 16, timeout: Double = 10, token: String? = nil) -> ServeSettings {
        ServeSettings(url: url, name: "mwa", directory: dir.file("serve"), keep: 2, trigger: .auto, tokenFile: token, maxRank: maxRank,
                      timeout: timeout)
    }

    /// A version of the f32 run's checkpoint at `step`, as a publication would make it.
    func version(_ settings: ServeSettings, step: Int = 80) throws -> ServedVersion {
        try ServedVersion.make(from: Fixtures.checkpoint(Fixtures.f32Run, step), files: HuggingFaceLayout().output, step: Int64(step),
                               settings: settings)
    }

    func serve(_ replies: [String], offers: [Int] = [80], token: String? = nil, maxRank: Int = 16)
        async throws -> (ServingRecord?, ReplayServer) {
        let server = try ReplayServer(replies, in: dir)
        let ledger = try Ledger.inMemory()
        let publisher = ServingPublisher(settings: settings(server.url, maxRank: maxRank, token: token), ledger: ledger, logger: Self.logger)
        for step in offers {
            publisher.offer(try version(settings(server.url, maxRank: maxRank), step: step))
            await publisher.drain()
        }
        return (try ledger.snapshot().serving, server)
    }

    @Test func aLoadIsRecordedWithItsVersion() async throws {
        let token = dir.write("token", "s3cret\n")
        let (serving, server) = try await serve(["loaded"], offers: [70, 80], token: token)
        let row = try #require(serving)
        #expect(row.step == 80 && row.rank == 8 && row.lastFailure == nil && row.loadedAt != nil)
        #expect((row.version as NSString?)?.lastPathComponent.hasPrefix("mwa-80-") == true)
        let requests = server.requests
        #expect(requests.count == 2)
        #expect(requests[0].body["load_inplace"] == nil, "the first load of this process names no load_inplace")
        #expect(requests[1].body["load_inplace"] as? Bool == true, "later loads replace it in place")
        #expect(requests.allSatisfy { $0.authorization == "Bearer s3cret" })
        #expect(FileManager.default.fileExists(atPath: "\(row.version!)/adapter_model.safetensors"))
        #expect(FileManager.default.fileExists(atPath: "\(row.version!)/adapter_config.json"))
    }

    /// Loaded by an earlier daemon (or by hand): 400 already loaded, then in place.
    @Test func alreadyLoadedIsReplacedInPlace() async throws {
        let (serving, server) = try await serve(["already-loaded", "loaded"])
        #expect(serving?.lastFailure == nil && serving?.step == 80)
        #expect(server.requests.map { $0.body["load_inplace"] as? Bool } == [nil, true])
    }

    @Test(arguments: [("bad-path", "HTTP 404: Loading lora mwa2 failed: No adapter found for <path>"),
                      ("rank-limit", "HTTP 500: Call to add_lora method failed: Worker failed with error 'LoRA rank 24 is greater than max_lora_rank 16.'")])
    func aRefusalIsRecordedInTheServersWords(_ reply: String, _ words: String) async throws {
        let (serving, _) = try await serve([reply])
        let row = try #require(serving)
        #expect(row.version == nil && row.lastFailure?.contains(words) == true, "\(row.lastFailure ?? "")")
        #expect(row.lastFailure?.contains("mwa-80-") == true, "names the version")
    }

    /// Down, then back: the failure is shown, the version on disk stands, the next one loads.
    @Test func aServerThatIsDownIsTriedAgainAtTheNextOffer() async throws {
        let ledger = try Ledger.inMemory()
        let down = settings("http://127.0.0.1:9", timeout: 5)  // the discard port: nothing listens
        let publisher = ServingPublisher(settings: down, ledger: ledger, logger: Self.logger)
        let first = try version(down, step: 70)
        publisher.offer(first)
        await publisher.drain()
        let failed = try #require(try ledger.snapshot().serving)
        #expect(failed.lastFailure?.contains("connection refused") == true, "\(failed.lastFailure ?? "")")
        #expect(FileManager.default.fileExists(atPath: "\(first.path)/adapter_model.safetensors"))
        let server = try ReplayServer(["loaded"], in: dir)
        let back = ServingPublisher(settings: settings(server.url), ledger: ledger, logger: Self.logger)
        back.offer(try version(settings(server.url), step: 80))
        await back.drain()
        let row = try #require(try ledger.snapshot().serving)
        #expect(row.lastFailure == nil && row.step == 80)
    }

    /// Checked on the daemon's clock: a server that went down is one failure; back up
    /// (restarted, its runtime loads lost), it is given the wanted version again
    /// without waiting for a new one; one that serves it is only asked.
    @Test func aRestartedServerIsGivenTheWantedVersionAgain() async throws {
        let ledger = try Ledger.inMemory()
        let first = try ReplayServer(["loaded"], in: dir)
        let serve = settings(first.url)
        let publisher = ServingPublisher(settings: serve, ledger: ledger, logger: Self.logger)
        #expect(publisher.secondsUntilCheck(now: Date()) == nil, "nothing offered, nothing to check")
        let wanted = try version(serve, step: 80)
        publisher.offer(wanted)
        await publisher.drain()
        #expect(try ledger.snapshot().serving?.step == 80)
        first.stop()
        let t0 = Date()
        publisher.check(now: t0)
        await publisher.drain()
        let down = try #require(try ledger.snapshot().serving)
        #expect(down.lastFailure?.contains("does not answer") == true && down.lastFailure?.contains("connection refused") == true,
                "\(down.lastFailure ?? "")")
        #expect(publisher.secondsUntilCheck(now: t0.addingTimeInterval(10)) == serve.checkEvery - 10)
        let restarted = try ReplayServer(["loaded"], in: dir, port: first.port)
        publisher.check(now: t0.addingTimeInterval(10))  // not due yet
        await publisher.drain()
        #expect(restarted.modelListings == 0)
        publisher.check(now: t0.addingTimeInterval(serve.checkEvery))
        await publisher.drain()
        let back = try #require(try ledger.snapshot().serving)
        #expect(back.lastFailure == nil && back.version == wanted.path)
        #expect(restarted.requests.map { $0.body["lora_path"] as? String } == [wanted.path])
        #expect(restarted.requests.first?.body["load_inplace"] == nil, "the restarted server has no adapter of that name to replace")
        let listed = restarted.modelListings
        publisher.check(now: t0.addingTimeInterval(2 * serve.checkEvery))
        await publisher.drain()
        #expect(restarted.modelListings == listed + 1 && restarted.requests.count == 1, "serving the wanted version: only asked")
    }

    @Test func aServerThatNeverAnswersIsATimeout() async throws {
        let server = try ReplayServer(["loaded", "--hang"], in: dir)
        let ledger = try Ledger.inMemory()
        let publisher = ServingPublisher(settings: settings(server.url, timeout: 1), ledger: ledger, logger: Self.logger)
        publisher.offer(try version(settings(server.url, timeout: 1)))
        await publisher.drain()
        let row = try #require(try ledger.snapshot().serving)
        #expect(row.lastFailure?.contains("no answer within the timeout") == true, "\(row.lastFailure ?? "")")
    }

    /// A stacked merge above the cap (window 3 of rank 8: rank 24) is served as its
    /// truncated SVD at the cap, its config rewritten, its error recorded.
    @Test(.enabled(if: LAPACKInstalled.here, Comment(rawValue: LAPACKInstalled.reason)))
    func aStackedMergeAboveTheCapIsServedTruncated() async throws {
        let merged = dir.file("merged")
        let checkpoints = try [60, 70, 80].map { try Checkpoint.load(folder: Fixtures.checkpoint(Fixtures.f32Run, $0)) }
        _ = try FolderPublication(layout: HuggingFaceLayout()).publish(try MergePlan(checkpoints: checkpoints, settings: MergeSettings(window: 3, method: "delta")), to: merged)
        #expect(RankCap.rank(of: try SafeTensorsFile(path: "\(merged)/adapter_model.safetensors")) == 24)
        let capped = try ServedVersion.make(from: merged, files: HuggingFaceLayout().output, step: 80, settings: settings("http://127.0.0.1:9"))
        #expect(capped.rank == 16 && (capped.truncationError ?? 0) > 0)
        #expect(RankCap.rank(of: try SafeTensorsFile(path: "\(capped.path)/adapter_model.safetensors")) == 16)
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(capped.path)/adapter_config.json"))) as? [String: Any]
        #expect(config?["r"] as? Int == 16)
        // Under the cap: the adapter as published, byte for byte.
        let plain = try ServedVersion.make(from: merged, files: HuggingFaceLayout().output, step: 80, settings: settings("http://127.0.0.1:9", maxRank: 32))
        #expect(plain.truncationError == nil && plain.rank == 24)
        #expect(FileManager.default.contents(atPath: "\(plain.path)/adapter_model.safetensors") == FileManager.default.contents(atPath: "\(merged)/adapter_model.safetensors"))
    }

    /// The daemon serves each merge (no evaluator) through its publication, and status
    /// and the metrics say what is served.
    @Test func theDaemonServesItsMergeAndStatusSaysSo() async throws {
        let server = try ReplayServer(["loaded"], in: dir)
        let run = dir.file("run")
        try FileManager.default.createDirectory(atPath: run, withIntermediateDirectories: true)
        for step in [60, 70, 80] { try FileManager.default.copyItem(atPath: Fixtures.checkpoint(Fixtures.f32Run, step), toPath: "\(run)/checkpoint-\(step)") }
        let config = try await ConfigLoader.load(file: nil, environment: [:], flags: [
            "watch.directory": run, "state_directory": dir.file("state"), "serve.url": server.url, "merge.method": "linear"])
        #expect(config.serve?.directory == dir.file("state/serve"))
        let ledger = try Ledger(path: config.ledger)
        let engine = DaemonEngine(config: config, ledger: ledger, logger: Self.logger, notifier: SystemdNotifier(environment: [:]))
        #expect(await engine.runOnce().reflected)
        let row = try #require(try ledger.snapshot().serving)
        #expect(row.step == 80 && row.lastFailure == nil, "\(row.lastFailure ?? "")")
        #expect(server.requests.first?.body["lora_name"] as? String == "mwa")
        let report = StatusReport(ledger: config.ledger, snapshot: try LedgerReader(path: config.ledger).snapshot(), now: Date(), all: false,
                                  words: Catalog.words) { _ in .stopped }
        #expect(HumanView.render(report).contains("serving     mwa at \(server.url): mwa-80-"), "\(HumanView.render(report))")
        #expect(report.json().contains("\"serving\" : {"))
    }
}
