import Daemon
import Foundation
import Ingest
import Settings
import MWADTestKit
import Testing

@Suite struct ConfigLoaderTests {
    let dir = TemporaryDirectory()
    let exampleFile = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("config/mwad.yaml").path

    func load(_ yaml: String?, environment: [String: String] = ["HOME": "/home/u"], flags: [String: String] = [:]) async throws(ConfigError) -> DaemonConfig {
        let file = yaml.map { dir.write("mwad.yaml", $0) }
        return try await ConfigLoader.load(file: file, environment: environment, flags: flags)
    }

    func refusal(_ yaml: String?, environment: [String: String] = ["HOME": "/home/u"], flags: [String: String] = [:]) async -> ConfigError? {
        do {
            _ = try await load(yaml, environment: environment, flags: flags)
            return nil
        } catch {
            return error
        }
    }

    @Test func theDocumentedExampleHasEveryKeyAndItsDefaults() async throws {
        let text = try String(contentsOfFile: exampleFile, encoding: .utf8)
        for (key, _) in ConfigLoader.keys(Catalog()) {  // the built-in ones: a test may register more
            #expect(text.contains("\(key.split(separator: ".").last!):"), "config/mwad.yaml must document \(key)")
        }
        let config = try await ConfigLoader.load(file: exampleFile, environment: ["HOME": "/home/u"], flags: [:])
        #expect(config.watchDirectory == "/data/runs/llama-lora")
        #expect(config.output == "/data/runs/llama-lora/mwa-merged")
        #expect(config.stateDirectory == "/home/u/.local/state/mwad/data-runs-llama-lora")
        #expect(config.ledger == "/home/u/.local/state/mwad/data-runs-llama-lora/ledger.sqlite")
        #expect(config.merge == MergeSettings().effective, "the example's merge section is the defaults")
        #expect(config.merge.window.count == 3 && config.merge.weighting == "ema" && config.merge.method == "auto")
        #expect(config.merge.metric == .trainLoss && config.merge.smoothing == 1 && config.recomputeEvery == 50)
        #expect(config.watchMode == .auto && config.pollInterval == 5 && config.reconcileInterval == 60)
        #expect(config.settleTime == 10 && config.debounce == 0.5 && config.heartbeatInterval == 10)
        #expect(config.onMerge.isEmpty && config.hookTimeout == 60 && config.logLevel == .info)
    }

    @Test func everyKeyIsRead() async throws {
        let config = try await load("""
            watch:
              directory: /runs/a
              mode: poll
              poll_interval: 2.5
              reconcile_interval: 30
              settle_time: 4
              debounce: 0
            output: /out/a
            ledger: /var/lib/mwad/a.sqlite
            state_directory: /var/lib/mwad/a
            merge:
              window: 8
              weighting: step
              penalty: 2
              metric: eval_loss
              smoothing: 3
              recompute_every: 7
            hook:
              on_merge: ["/usr/bin/env", "sh", "-c", "echo $MWAD_OUTPUT"]
              timeout: 5
            heartbeat_interval: 3
            log:
              level: debug
            """)
        #expect(config.watchDirectory == "/runs/a" && config.watchMode == .poll && config.pollInterval == 2.5)
        #expect(config.reconcileInterval == 30 && config.settleTime == 4 && config.debounce == 0)
        #expect(config.output == "/out/a" && config.ledger == "/var/lib/mwad/a.sqlite" && config.stateDirectory == "/var/lib/mwad/a")
        #expect(config.merge.window.count == 8 && config.merge.weighting == "step" && config.merge.penalty == 2)
        #expect(config.merge.metric == .evalLoss && config.merge.smoothing == 3 && config.recomputeEvery == 7)
        #expect(config.onMerge == ["/usr/bin/env", "sh", "-c", "echo $MWAD_OUTPUT"] && config.hookTimeout == 5)
        #expect(config.heartbeatInterval == 3 && config.logLevel == .debug)
    }

    @Test func environmentOverridesTheFileAndFlagsOverrideTheEnvironment() async throws {
        let yaml = "watch:\n  directory: /runs/a\nmerge:\n  weighting: loss\n  window: 8\n  penalty: 2\n"
        let environment = ["HOME": "/h", "MWAD_MERGE_WINDOW": "3", "MWAD_MERGE_PENALTY": "0.5", "MWAD_HOOK_ON_MERGE": "/bin/echo,done"]
        let fromEnvironment = try await load(yaml, environment: environment)
        #expect(fromEnvironment.merge.window.count == 3 && fromEnvironment.merge.penalty == 0.5)
        #expect(fromEnvironment.onMerge == ["/bin/echo", "done"])
        let fromFlags = try await load(yaml, environment: environment, flags: ["merge.window": "4"])
        #expect(fromFlags.merge.window.count == 4 && fromFlags.merge.penalty == 0.5)
    }

    @Test func noFileAtAllIsFine() async throws {
        let config = try await load(nil, environment: ["HOME": "/h", "STATE_DIRECTORY": "/var/lib/mwad/x"], flags: ["watch.directory": "/runs/x"])
        #expect(config.ledger == "/var/lib/mwad/x/ledger.sqlite")
    }

    @Test(arguments: [
        ("merge:\n  window: five", "merge.window", "five"),
        ("merge:\n  window: 0", "merge.window", "0"),
        ("merge:\n  weighting: best", "merge.weighting", "best"),
        ("merge:\n  penalty: -1", "merge.penalty", "-1"),
        ("merge:\n  metric: step", "merge.metric", "step"),
        ("watch:\n  mode: fanotify", "watch.mode", "fanotify"),
        ("watch:\n  poll_interval: 0", "watch.poll_interval", "0"),
        ("hook:\n  timeout: forever", "hook.timeout", "forever"),
        ("hook:\n  on_merge: /bin/sync-model --fast", "hook.on_merge", "/bin/sync-model --fast"),
        ("log:\n  level: loud", "log.level", "loud"),
        ("merge:\n  window: [1, 2]", "merge.window", "1,2"),
    ])
    func anInvalidValueIsRefusedWithItsKey(_ yaml: String, _ key: String, _ value: String) async {
        let error = await refusal("watch:\n  directory: /runs/a\n" + yaml.replacingOccurrences(of: "watch:\n", with: ""))
        guard case .invalid(let badKey, let badValue, let allowed) = error else { Issue.record("got \(String(describing: error))"); return }
        #expect(badKey == key)
        #expect(badValue == value)
        #expect(!allowed.isEmpty)
        #expect(error!.description.hasPrefix("config key '\(key)': '\(value)' is not allowed; expected "))
    }

    @Test func anInvalidEnvironmentValueIsRefusedToo() async {
        let error = await refusal(nil, environment: ["HOME": "/h", "MWAD_WATCH_DIRECTORY": "/r", "MWAD_MERGE_SMOOTHING": "-2"])
        #expect(error == .invalid(key: "merge.smoothing", value: "-2", allowed: "a whole number >= 1"))
    }

    @Test func anUnknownKeyIsRefused() async {
        let error = await refusal("watch:\n  directory: /runs/a\nmerge:\n  windw: 3\n")
        #expect(error == .unknownKey(file: dir.file("mwad.yaml"), key: "merge.windw"))
    }

    @Test func theWatchDirectoryIsRequired() async {
        guard case .missing(let key, _) = await refusal("merge:\n  window: 3\n") else { Issue.record("not refused"); return }
        #expect(key == "watch.directory")
    }

    @Test func brokenAndMissingFiles() async {
        guard case .file = await refusal("watch: [unclosed") else { Issue.record("broken YAML accepted"); return }
        guard case .file = await refusal("- just\n- a list\n") else { Issue.record("a list accepted"); return }
        do {
            _ = try await ConfigLoader.load(file: dir.file("absent.yaml"), environment: [:], flags: [:])
            Issue.record("a missing file accepted")
        } catch {
            guard case .file(let path, _) = error else { Issue.record("got \(error)"); return }
            #expect(path == dir.file("absent.yaml"))
        }
    }

    /// A layout vLLM cannot load (one safetensors file, no PEFT config) is refused at
    /// start, naming the layouts it can; `auto` is judged once it decides.
    @Test func servingRefusesALayoutWithoutAPEFTConfigAtStart() async throws {
        let builtIn = LayoutCatalog.builtIn.map(\.description.name)  // a test may register more
        #expect(ServeSettings.servableLayouts.filter(builtIn.contains) == ["huggingface", "torchtune"])
        for layout in ["auto"] + builtIn {
            let flags = ["watch.directory": dir.file("run"), "serve.url": "http://127.0.0.1:8000", "watch.layout": layout]
            let refused = await refusal(nil, flags: flags)
            if ["auto", "huggingface", "torchtune"].contains(layout) {
                #expect(refused == nil, "\(layout): \(refused.map { "\($0)" } ?? "")")
            } else {
                let words = refused.map { "\($0)" } ?? ""
                #expect(words.contains("serve.url") && words.contains("the \(layout) layout publishes") && words.contains("huggingface, torchtune"), "\(layout): \(words)")
                #expect(await refusal(nil, flags: flags.filter { $0.key != "serve.url" }) == nil, "\(layout) without serving")
            }
        }
    }
}
