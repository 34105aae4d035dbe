import MWADTestKit
@testable import SafeTensors
import Testing

/// One crafted file per rule of the format; each must fail with exactly its rule,
/// naming the file and (where one is involved) the tensor.
@Suite struct ReaderRuleTests {
    let dir = TemporaryDirectory()
    typealias C = CraftedSafeTensors

    /// Opens `bytes` as a file and returns the error it must raise.
    func failure(_ bytes: [UInt8], _ name: String = "bad.safetensors") -> SafeTensorsError? {
        let path = dir.write(name, bytes)
        do {
            _ = try SafeTensorsFile(path: path)
            return nil
        } catch {
            #expect(error.file == path)
            #expect(error.description.hasPrefix(path))
            return error
        }
    }

    /// A valid one-tensor header with `entry` and `data`.
    func one(_ entry: String, data: [UInt8]) -> [UInt8] { C.file(header: "{\(entry)}", data: data) }

    @Test func emptyFile() {
        #expect(failure([])?.rule == .fileTooSmall(size: 0))
    }

    @Test func fewerThanEightBytes() {
        #expect(failure([1, 0, 0])?.rule == .fileTooSmall(size: 3))
    }

    @Test func headerLongerThanTheLimit() {
        let bytes = C.littleEndian(UInt64(100_000_001)) + Array("{}".utf8)
        #expect(failure(bytes)?.rule == .headerTooLarge(length: 100_000_001))
    }

    @Test func headerClaimingAHugeLength() {
        let bytes = C.littleEndian(UInt64.max) + Array("{}".utf8)
        #expect(failure(bytes)?.rule == .headerTooLarge(length: UInt64.max))
    }

    @Test func aMillionTinyTensors() {
        #expect(failure(C.tiny(count: 1_000_000))?.rule == .tooManyTensors(count: 1_000_000, limit: 250_000))
    }

    @Test func oneTensorOverTheLimit() {
        #expect(failure(C.tiny(count: 250_001))?.rule == .tooManyTensors(count: 250_001, limit: 250_000))
    }

    /// The pre-count must not be fooled by colons, quotes and brackets inside names and
    /// metadata, nor count nested members.
    @Test func memberCountSkipsStringsAndNesting() {
        let header = #"{"__metadata__":{"k:":"v:{"},"a:b":{"dtype":"F32"},"q\"x:[{":{},"c]}\\":[1,{"d":2}]}"#
        #expect(Array(header.utf8).withUnsafeBytes { HeaderParser.topLevelMemberCount($0) } == 4)
    }

    @Test func headerLengthBeyondFile() {
        let bytes = C.file(header: "{}", length: 64)
        #expect(failure(bytes)?.rule == .headerBeyondFile(length: 64, fileSize: 10))
    }

    @Test func headerNotUTF8() {
        #expect(failure(C.file(headerBytes: [0x7B, 0xFF, 0xFE, 0x7D]))?.rule == .headerNotUTF8)
    }

    @Test func headerNotJSON() throws {
        let error = try #require(failure(C.file(header: "{\"a\": ")))
        guard case .headerNotJSON = error.rule else { Issue.record("got \(error.rule)"); return }
    }

    @Test func deeplyNestedHeaderIsRefusedNotACrash() throws {
        let nested = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        let error = try #require(failure(C.file(header: "{\"a\":\(nested)}")))
        guard case .headerNotJSON = error.rule else { Issue.record("got \(error.rule)"); return }
    }

    @Test func headerNotAnObject() {
        #expect(failure(C.file(header: "[1, 2]"))?.rule == .headerNotObject)
    }

    @Test func tensorEntryNotAnObject() {
        let error = failure(C.file(header: "{\"w\": 3}"))
        #expect(error?.rule == .tensorNotObject)
        #expect(error?.tensor == "w")
    }

    @Test(arguments: ["dtype", "shape", "data_offsets"])
    func missingField(_ field: String) {
        var fields = ["\"dtype\":\"F32\"", "\"shape\":[1]", "\"data_offsets\":[0,4]"]
        fields.removeAll { $0.hasPrefix("\"\(field)\"") }
        let error = failure(C.file(header: "{\"w\":{\(fields.joined(separator: ","))}}", data: C.f32([1])))
        #expect(error?.rule == .missingField(field))
        #expect(error?.tensor == "w")
        #expect(error?.description.contains("tensor 'w'") == true)
    }

    @Test(arguments: ["[-1]", "[1.5]", "[true]", "\"4\"", "[18446744073709551616]"])
    func shapeOfTheWrongForm(_ shape: String) {
        let header = "{\"w\":{\"dtype\":\"F32\",\"shape\":\(shape),\"data_offsets\":[0,4]}}"
        let error = failure(C.file(header: header, data: C.f32([1])))
        #expect(error?.rule == .invalidField("shape", expected: "an array of non-negative integers"))
    }

    @Test(arguments: ["[0]", "[0,4,8]", "null"])
    func offsetsOfTheWrongForm(_ offsets: String) {
        let header = "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":\(offsets)}}"
        let rule = failure(C.file(header: header, data: C.f32([1])))?.rule
        #expect(rule == .invalidField("data_offsets", expected: "[begin, end], two non-negative integers"))
    }

    @Test func dtypeNotAString() {
        let header = "{\"w\":{\"dtype\":4,\"shape\":[1],\"data_offsets\":[0,4]}}"
        #expect(failure(C.file(header: header, data: C.f32([1])))?.rule == .invalidField("dtype", expected: "a string"))
    }

    @Test(arguments: ["I32", "U8", "F8_E4M3", "BOOL", "f32"])
    func unsupportedDType(_ dtype: String) {
        let error = failure(one(C.entry("w", dtype, [1], 0, 4), data: [0, 0, 0, 0]))
        #expect(error?.rule == .unsupportedDType(dtype))
        #expect(error?.description.contains("unsupported dtype") == true)
    }

    @Test func offsetsEndingBeforeTheyBegin() {
        #expect(failure(one(C.entry("w", "F32", [1], 4, 0), data: C.f32([1])))?.rule == .invalidOffsets(begin: 4, end: 0))
    }

    @Test func shapeWhoseByteSizeOverflows() {
        let shape = [Int(Int64.max / 2), 4]
        #expect(failure(one(C.entry("w", "F32", shape, 0, 4), data: C.f32([1])))?.rule
                == .shapeOverflow(shape: shape.map { UInt64($0) }))
    }

    @Test func spanNotMatchingShapeAndDType() {
        let error = failure(one(C.entry("w", "F32", [2], 0, 4), data: C.f32([1])))
        #expect(error?.rule == .sizeMismatch(expected: 8, actual: 4))
        #expect(error?.tensor == "w")
    }

    @Test func gapBetweenTensors() {
        let header = "{\(C.entry("a", "F32", [1], 0, 4)),\(C.entry("b", "F32", [1], 8, 12))}"
        let error = failure(C.file(header: header, data: C.f32([1, 2, 3])))
        #expect(error?.rule == .dataGap(expected: 4, found: 8))
        #expect(error?.tensor == "b")
    }

    @Test func firstTensorNotAtZero() {
        let error = failure(one(C.entry("a", "F32", [1], 4, 8), data: C.f32([1, 2])))
        #expect(error?.rule == .dataGap(expected: 0, found: 4))
    }

    @Test func overlappingTensors() {
        let header = "{\(C.entry("a", "F32", [2], 0, 8)),\(C.entry("b", "F32", [1], 4, 8))}"
        let error = failure(C.file(header: header, data: C.f32([1, 2])))
        #expect(error?.rule == .dataOverlap(expected: 8, found: 4))
        #expect(error?.tensor == "b")
    }

    @Test func dataShorterThanTheHeaderSays() {
        #expect(failure(one(C.entry("w", "F32", [2], 0, 8), data: C.f32([1])))?.rule == .dataTruncated(expected: 8, available: 4))
    }

    @Test func truncatedRealAdapter() throws {
        let real = try SafeTensorsFile(path: Fixtures.adapter(Fixtures.f32Run, 80))
        let bytes = Array(real.fileBytes.prefix(real.fileBytes.count - 100))
        guard case .dataTruncated = failure(bytes)?.rule else { Issue.record("not dataTruncated"); return }
    }

    @Test func bytesAfterTheLastTensor() {
        #expect(failure(one(C.entry("w", "F32", [1], 0, 4), data: C.f32([1, 2])))?.rule == .trailingBytes(count: 4))
    }

    @Test(arguments: ["{\"k\": 1}", "[\"a\"]", "\"text\"", "{\"k\": {\"n\": \"v\"}}"])
    func metadataNotAStringMap(_ metadata: String) {
        let error = failure(C.file(header: "{\"__metadata__\":\(metadata)}"))
        guard case .invalidMetadata = error?.rule else { Issue.record("got \(String(describing: error))"); return }
    }

    @Test func duplicateTensorName() {
        let header = "{\(C.entry("a", "F32", [1], 0, 4)),\(C.entry("a", "F32", [1], 4, 8))}"
        // The JSON decoder keeps one entry of a repeated key (the Rust reference too); the
        // data of the lost entry is then owned by no tensor and the file is refused.
        #expect(failure(C.file(header: header, data: C.f32([1, 2])))?.rule == .trailingBytes(count: 4))
    }

    @Test func missingFile() {
        do {
            _ = try SafeTensorsFile(path: dir.file("absent.safetensors"))
            Issue.record("opened a missing file")
        } catch {
            #expect(error.rule == .unreadable("open: No such file or directory"))
        }
    }

    @Test func folderInsteadOfFile() {
        do {
            _ = try SafeTensorsFile(path: dir.path)
            Issue.record("opened a folder")
        } catch {
            #expect(error.rule == .unreadable("not a regular file"))
        }
    }

    @Test func emptyHeaderWithNoTensorsIsValid() throws {
        let file = try SafeTensorsFile(path: dir.write("empty.safetensors", C.file(header: "{}      ")))
        #expect(file.tensors.isEmpty)
        #expect(file.metadata == nil)
    }

    @Test func zeroElementTensorIsValid() throws {
        let header = "{\(C.entry("a", "F32", [0, 8], 0, 0)),\(C.entry("b", "F32", [1], 0, 4))}"
        let file = try SafeTensorsFile(path: dir.write("zero.safetensors", C.file(header: header, data: C.f32([1]))))
        #expect(file.tensors.map(\.name) == ["a", "b"])
    }
}
