import Foundation
import MWADTestKit
import Testing
@testable import TensorBoard

/// The reader against event files written by the real writers (scripts/make-tensorboard-fixtures.py).
@Suite struct ScalarLogTests {
    static let folders = ["old-style", "new-style", "tensor-f64"]

    @Test(arguments: folders)
    func readsEveryValueOfTheTagFromARealWriter(_ folder: String) throws {
        let log = ScalarLog(directory: "\(Fixtures.root)/tensorboard/\(folder)", tag: "loss")
        #expect(log.refresh() == [])
        let points = log.points
        #expect(points.map(\.step) == Array(1...20))
        for point in points {
            // Written as F32 (simple_value, a DT_FLOAT tensor) or F64: within F32 rounding.
            #expect(abs(point.value - (5 - 0.1 * Double(point.step))) < 1e-6, "\(folder) step \(point.step): \(point.value)")
        }
        #expect(log.value(atOrBefore: 7)?.step == 7)
        #expect(log.value(atOrBefore: 0) == nil)
    }

    @Test func anotherTagIsNotRead() {
        let log = ScalarLog(directory: "\(Fixtures.root)/tensorboard/new-style", tag: "lr")
        log.refresh()
        #expect(log.points.count == 20)
        #expect(log.points.allSatisfy { abs($0.value - 0.01) < 1e-9 })
        let none = ScalarLog(directory: "\(Fixtures.root)/tensorboard/new-style", tag: "train_loss")
        #expect(none.refresh() == [])
        #expect(none.points.isEmpty)
    }

    @Test func crc32cOfTheStandardCheckString() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
    }

    /// A file being appended: the incomplete last record waits, and is read once whole.
    @Test func aTruncatedLastRecordWaitsAndIsReadWhenComplete() throws {
        let source = try Self.eventFile("old-style")
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: source)))
        let temp = TemporaryDirectory()
        // Cut inside the last record that holds a loss (the file ends with an "lr" one).
        let records = try Self.records(of: "old-style")
        let cut = records.dropLast(2).reduce(0) { $0 + $1.count } + 7
        let path = temp.write("run/events.out.tfevents.1.host", Array(bytes.prefix(cut)))
        let log = ScalarLog(directory: "\(temp.path)/run", tag: "loss")
        #expect(log.refresh() == [])
        let before = log.points.count
        #expect(before == 19)
        let handle = try #require(FileHandle(forWritingAtPath: path))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(bytes.dropFirst(cut)))
        try handle.close()
        #expect(log.refresh() == [])
        #expect(log.points.count == 20)
    }

    /// A record whose data fails its checksum is skipped and reported once; the rest is read.
    @Test func aFlippedDataCRCIsReportedOnceAndSkipped() throws {
        var records = try Self.records(of: "old-style")
        let victim = records.firstIndex { $0.count > 40 }! + 3  // a scalar event
        records[victim][records[victim].count - 1] ^= 0x01  // the data CRC's last byte
        let temp = TemporaryDirectory()
        temp.write("run/events.out.tfevents.1.host", records.flatMap { $0 })
        let log = ScalarLog(directory: "\(temp.path)/run", tag: "loss")
        let problems = log.refresh()
        #expect(problems.count == 1)
        #expect(problems.first?.contains("fails its CRC-32C; it is skipped") == true, "\(problems)")
        #expect(log.points.count == 19)
        #expect(log.refresh() == [])  // reported once
    }

    /// A length whose checksum fails: the file cannot be framed past it.
    @Test func aFlippedLengthCRCStopsTheFileOnce() throws {
        var records = try Self.records(of: "old-style")
        records[10][8] ^= 0x80
        let temp = TemporaryDirectory()
        temp.write("run/events.out.tfevents.1.host", records.flatMap { $0 })
        let log = ScalarLog(directory: "\(temp.path)/run", tag: "loss")
        let problems = log.refresh()
        #expect(problems.count == 1)
        #expect(problems.first?.contains("length at byte") == true, "\(problems)")
        #expect(log.points.count < 20)
        #expect(log.refresh() == [])
    }

    /// What mwad writes reads back, with TensorBoard's framing.
    @Test func theWritersEventsReadBack() throws {
        let temp = TemporaryDirectory()
        let writer = try EventWriter(directory: temp.file("mwad"))
        try writer.scalars([("mwad/merge_score", 1.25), ("mwad/newest_score", 1.5)], step: 40)
        try writer.scalars([("mwad/merge_score", 1.0)], step: 50)
        let log = ScalarLog(directory: temp.path, tag: "mwad/merge_score")
        #expect(log.refresh() == [])
        #expect(log.points.map(\.step) == [40, 50])
        #expect(log.points.map(\.value) == [1.25, 1.0])
        #expect(writer.path.hasPrefix(temp.file("mwad/events.out.tfevents.")))
    }

    /// A 100 MB event file (large records between the scalars) is read in one pass,
    /// a record at a time: a diffusers run whose log is 100 MB costs `mwad merge` less
    /// than 64 MiB more at its peak than the same run with a tiny log. Measured in
    /// the child, since this test process runs other suites meanwhile.
    @Test func aHundredMegabyteFileIsReadWithoutHoldingIt() throws {
        let temp = TemporaryDirectory()
        var peaks: [Int] = []
        for blobs in [false, true] {
            let run = temp.file(blobs ? "big" : "small")
            try FileManager.default.createDirectory(atPath: "\(run)/checkpoint-100", withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: "\(Fixtures.root)/diffusers-run/checkpoint-40/pytorch_lora_weights.safetensors",
                                             toPath: "\(run)/checkpoint-100/pytorch_lora_weights.safetensors")
            let writer = try EventWriter(directory: "\(run)/logs/big")
            var blob = Tensorboard_Event()
            blob.graphDef = Data(repeating: 0x5A, count: 1 << 20)
            for step in 1...100 {
                if blobs { try writer.write(blob) }
                try writer.scalars([("train_loss", Double(step))], step: Int64(step))
            }
            if blobs {
                #expect((try FileManager.default.attributesOfItem(atPath: writer.path)[.size] as? Int ?? 0) > 100 << 20)
                let log = ScalarLog(directory: "\(run)/logs/big", tag: "train_loss")
                #expect(log.refresh() == [])
                #expect(log.points.count == 100)
            }
            let child = try PeakMemory.of(mwad: ["merge", run, "--layout", "diffusers", "--dry-run"])
            #expect(child.status == 0)
            peaks.append(child.bytes)
        }
        #expect(peaks[0] > 0, "the child's peak was read")
        #expect(peaks[1] - peaks[0] < 64 << 20, "peak RSS \(peaks[0] >> 20) MiB with a tiny log, \(peaks[1] >> 20) MiB with 100 MB")
    }

    static func eventFile(_ folder: String) throws -> String {
        let directory = "\(Fixtures.root)/tensorboard/\(folder)"
        let name = try #require(try FileManager.default.contentsOfDirectory(atPath: directory).first { $0.contains("tfevents") })
        return "\(directory)/\(name)"
    }

    /// The file's records, each with its framing.
    static func records(of folder: String) throws -> [[UInt8]] {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: try eventFile(folder))))
        var records: [[UInt8]] = []
        var offset = 0
        while offset < bytes.count {
            let length = Int(bytes[offset..<offset + 8].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
            records.append(Array(bytes[offset..<offset + 16 + length]))
            offset += 16 + length
        }
        return records
    }
}
