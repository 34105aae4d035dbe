import Foundation
import MWADTestKit
import Publish
import SafeTensors
import Synchronization
import Testing

/// `mwad merge` of a kohya run into one file, killed with SIGKILL at random moments
/// while a reader keeps reading that file: it is always absent (before the first
/// publish) or a whole merge with its manifest, never torn; the next merge removes
/// what a kill left behind.
@Suite struct SingleFileKillTests {
    @Test func killedMidPublishTheFileIsNeverTorn() throws {
        let dir = TemporaryDirectory()
        let target = dir.file("loras/pixel-mwa.safetensors")
        let stop = Atomic<Bool>(false)
        let reads = Mutex<(whole: Int, torn: [String])>((0, []))
        let reader = Thread {
            while !stop.load(ordering: .relaxed) {
                if let data = FileManager.default.contents(atPath: target) {
                    let valid = (try? data.withUnsafeBytes { try SafeTensorsFile.validate($0) }) != nil
                    let described = FilePublication.manifest(ofFile: target) != nil
                    reads.withLock { valid && described ? ($0.whole += 1) : $0.torn.append("\(data.count) bytes, valid \(valid)") }
                }
                usleep(500)
            }
        }
        reader.start()
        // One merge to its end: it publishes the file the kills then race to replace,
        // and its duration spreads them over a merge's whole life.
        let started = Date()
        let first = try MWADProcess.run(["merge", "\(Fixtures.root)/flat-kohya", "--out", target, "--window", "3"])
        let duration = Date().timeIntervalSince(started)
        #expect(first.status == 0, "\(first.stderr)")
        var killed = 0
        for round in 0..<30 {
            let merge = Process()
            merge.executableURL = URL(fileURLWithPath: MWADProcess.executable)
            merge.arguments = ["merge", "\(Fixtures.root)/flat-kohya", "--out", target, "--window", "\(1 + round % 4)", "--method", "delta"]
            merge.environment = MWADProcess.environment
            merge.standardOutput = FileHandle.nullDevice
            merge.standardError = FileHandle.nullDevice
            try merge.run()
            usleep(UInt32.random(in: 0...UInt32(duration * 1.5e6)))
            kill(merge.processIdentifier, SIGKILL)
            merge.waitUntilExit()
            if merge.terminationReason == .uncaughtSignal { killed += 1 }
        }
        let last = try MWADProcess.run(["merge", "\(Fixtures.root)/flat-kohya", "--out", target, "--window", "2"])
        stop.store(true, ordering: .relaxed)
        while reader.isExecuting { usleep(1_000) }
        #expect(last.status == 0, "\(last.stderr)")
        #expect(killed > 0, "some merges were killed before they ended")
        let seen = reads.withLock { $0 }
        #expect(seen.torn.isEmpty, "\(seen.torn)")
        #expect(try #require(FilePublication.manifest(ofFile: target)).members.map(\.step) == [30, 40])
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.file("loras")) == ["pixel-mwa.safetensors"], "no staging file left")
        print("single-file merge (\(Int(duration * 1000)) ms) killed \(killed) of 30 times; \(seen.whole) whole reads, \(seen.torn.count) torn")
    }
}
