import Foundation
import MWADTestKit
import SafeTensors
import Testing

/// `mwad demo`, the README's first command, through the binary.
@Suite struct DemoCommandTests {
    @Test func replaysTheBundledRunAndShowsEveryMerge() throws {
        let result = try MWADProcess.run(["demo", "--pace", "0"])
        #expect(result.status == 0, "\(result.stderr)")
        for step in stride(from: 10, through: 80, by: 10) {
            #expect(result.stdout.contains("checkpoint-\(step) "), "\(result.stdout)")
        }
        #expect(result.stdout.contains("of steps:weights  60:0.227  70:0.320  80:0.453"), "\(result.stdout)")
        let line = try #require(result.stdout.split(separator: "\n").first { $0.hasPrefix("The merged adapter is in ") })
        let output = String(line.dropFirst("The merged adapter is in ".count))
        #expect(try SafeTensorsFile(path: "\(output)/adapter_model.safetensors").tensors.count == 28)
        try? FileManager.default.removeItem(atPath: (output as NSString).deletingLastPathComponent)
    }

    @Test func aMissingRunToReplay() throws {
        let result = try MWADProcess.run(["demo", "--from", "/nonexistent/run"])
        #expect(result.status == 1)
        #expect(result.stderr == "mwad: error: /nonexistent/run: no such run directory\n")
    }
}
