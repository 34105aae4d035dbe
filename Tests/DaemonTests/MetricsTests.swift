import Foundation
import MWADTestKit
import Testing

/// The metrics file checked by the real tools: Prometheus's `promtool`, and
/// node_exporter's textfile collector scraped over loopback. (`.ci/run` installs both.)
@Suite(.serialized, .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/promtool")
                              && FileManager.default.isExecutableFile(atPath: "/usr/bin/prometheus-node-exporter")))
struct MetricsTests {
    @Test func theDaemonsMetricsPassPromtoolAndNodeExporterServesThem() throws {
        let live = try LiveRun()
        let textfiles = live.dir.file("textfiles")
        try FileManager.default.createDirectory(atPath: textfiles, withIntermediateDirectories: true)
        let prom = "\(textfiles)/mwad.prom"
        let daemon = try live.start(environment: ["MWAD_METRICS_TEXTFILE": prom, "MWAD_MERGE_WINDOW": "2"])
        let writer = TrainerWriter(runDirectory: live.run)
        for step in [10, 20, 30] { try writer.save(step: step) }
        #expect(live.waitForMerge(through: 30), "\(daemon.log)")
        #expect(DaemonProcess.waitUntil { (try? String(contentsOfFile: prom, encoding: .utf8))?.contains("mwad_last_step{run=\"\(live.run)\"} 30.0") == true })

        let check = try MWADProcess.run(["check", "metrics"], executable: "/usr/bin/promtool", stdin: prom)
        #expect(check.status == 0, "promtool: \(check.stdout) \(check.stderr)")

        let scraped = try NodeExporter(textfiles: textfiles).scrape()
        let run = "run=\"\(live.run)\""
        #expect(scraped.contains("mwad_up{\(run)} 1"), "\(scraped.suffix(2000))")
        #expect(scraped.contains("mwad_last_step{\(run)} 30"))
        #expect(scraped.contains("mwad_checkpoints{\(run),status=\"ingested\"} 2"))
        #expect(scraped.contains("mwad_checkpoints{\(run),status=\"evicted\"} 1"))
        #expect(scraped.contains("mwad_merge_members{\(run)} 2"))
        #expect(scraped.contains("mwad_merge_weight{\(run),step=\"30\"} 0.5"))
        #expect(scraped.contains("node_textfile_scrape_error 0"))

        #expect(daemon.stop() == 0)
        #expect((try String(contentsOfFile: prom, encoding: .utf8)).contains("mwad_up{\(run)} 0.0"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: textfiles) == ["mwad.prom"], "no temporary file left")
    }
}

/// Debian's `prometheus-node-exporter` on a loopback port, with only the textfile collector.
struct NodeExporter {
    let textfiles: String

    func scrape() throws -> String {
        for _ in 0..<5 {
            let port = Int.random(in: 20_000...60_000)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/prometheus-node-exporter")
            process.arguments = ["--web.listen-address=127.0.0.1:\(port)", "--collector.disable-defaults",
                                 "--collector.textfile", "--collector.textfile.directory=\(textfiles)"]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            defer { process.terminate(); process.waitUntilExit() }
            var body = ""
            DaemonProcess.waitUntil(timeout: 10) {
                let result = try? MWADProcess.run(["-sf", "--max-time", "2", "http://127.0.0.1:\(port)/metrics"], executable: "/usr/bin/curl")
                body = result?.status == 0 ? result!.stdout : ""
                return !body.isEmpty || !process.isRunning
            }
            if !body.isEmpty { return body }
        }
        throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "node_exporter did not serve metrics"])
    }
}
