import Foundation
@testable import Ingest
import MWADTestKit
import Testing

@Suite struct TrainerStateTests {
    let dir = TemporaryDirectory()

    func state(_ json: String) throws(IngestError) -> TrainerState {
        try TrainerState.load(dir.write("trainer_state.json", json))
    }

    func reason(_ json: String) -> String? {
        do {
            _ = try state(json)
            return nil
        } catch {
            guard case .invalidTrainerState(let path, let reason) = error else { return "\(error)" }
            #expect(path == dir.file("trainer_state.json"))
            return reason
        }
    }

    @Test func trainLossIsTheLastLoggedAtOrBeforeTheStep() throws {
        // Matches the metric in the reference merge's weights.json.
        let state = try TrainerState.load(Fixtures.checkpoint(Fixtures.f32Run, 80) + "/trainer_state.json")
        #expect(state.globalStep == 80)
        #expect(state.value(of: .trainLoss, atStep: 80) == 3.677217721939087)
        #expect(state.value(of: .trainLoss, atStep: 41) == 3.8287086486816406)
        #expect(state.value(of: nil, atStep: 80) == 80)  // no metric: the step itself
        #expect(state.logged(nil, atStep: 80)! == (80, 80))
    }

    @Test func evalLossAndTheFinalSummary() throws {
        let state = try state("""
            {"global_step": 40, "log_history": [
              {"loss": 4.0, "step": 10}, {"eval_loss": 3.9, "step": 20}, {"loss": 3.5, "step": 30},
              {"eval_loss": 3.4, "step": 40}, {"train_loss": 1.0, "step": 40}]}
            """)
        #expect(state.value(of: .evalLoss, atStep: 30) == 3.9)
        #expect(state.value(of: .evalLoss, atStep: 40) == 3.4)
        #expect(state.value(of: .trainLoss, atStep: 40) == 3.5)  // train_loss summary is not a loss log
        #expect(state.value(of: .evalLoss, atStep: 10) == nil)
    }

    @Test func smoothingAveragesTheLastKValues() throws {
        let state = try state("""
            {"log_history": [{"loss": 4, "step": 2}, {"loss": 3, "step": 4}, {"loss": 2, "step": 6}, {"loss": 1, "step": 8}]}
            """)
        #expect(state.value(of: .trainLoss, atStep: 6, smoothing: 2) == 2.5)
        #expect(state.value(of: .trainLoss, atStep: 6, smoothing: 10) == 3)
    }

    @Test func pythonsBareNaNIsReadAsNaN() throws {
        let state = try state(#"{"log_history": [{"loss": NaN, "step": 10}, {"loss": Infinity, "step": 20}]}"#)
        #expect(state.value(of: .trainLoss, atStep: 10)?.isNaN == true)
        #expect(state.value(of: .trainLoss, atStep: 20) == .infinity)
    }

    @Test func emptyFile() { #expect(reason("") == "file is empty") }

    @Test func truncatedFile() {
        #expect(reason(#"{"log_history": [{"loss": 1.0, "st"#)?.hasPrefix("not valid JSON") == true)
    }

    @Test func jsonArray() { #expect(reason("[1, 2]") != nil) }

    @Test func logHistoryOfTheWrongType() {
        #expect(reason(#"{"log_history": {"loss": 1}}"#) == "field 'log_history' is not an array")
    }

    @Test func lossOfTheWrongType() {
        #expect(reason(#"{"log_history": [{"loss": "low", "step": 1}]}"#) == "field 'log_history[0].loss' is not a number")
    }

    @Test func missingLogHistory() {
        #expect(reason(#"{"global_step": 3}"#) == "missing field 'log_history'")
    }

    /// Fuzzer finding: one 0xF8 byte between two fields made Foundation's JSON5
    /// scanner stop the whole process with a fatal error instead of throwing.
    @Test func invalidUTF8IsAnErrorNotACrash() throws {
        let finding = Fixtures.root + "/fuzz-findings/trainer-state-0xF8-in-whitespace.json"
        #expect(throws: IngestError.invalidTrainerState(path: finding, reason: "not valid UTF-8 (byte 0xF8 at offset 860)")) {
            try TrainerState.load(finding)
        }
        var bytes = Array(#"{"log_history": [{"loss": 1.0, "step": 1}]}"#.utf8)
        bytes.insert(0xC3, at: 1)  // a lead byte with no continuation
        #expect(throws: IngestError.invalidTrainerState(path: "t.json", reason: "not valid UTF-8 (byte 0xC3 at offset 1)")) {
            try TrainerState.decode(Data(bytes), path: "t.json")
        }
    }

    /// Fuzzer finding (CI): a number ending in an exponent sign made Foundation's JSON5
    /// scanner trap; the strict scanner mwad now uses throws.
    @Test func aMalformedExponentIsAnErrorNotACrash() throws {
        let finding = Fixtures.root + "/fuzz-findings/sidecar-exponent-sign-at-end.json"
        let data = try #require(FileManager.default.contents(atPath: finding))
        #expect(String(decoding: data, as: UTF8.self) == #"{"step":0, "eval_loss":9e+}"#)
        #expect(throws: IngestError.self) { try MetricsSidecar.decode(data, path: "m.json") }
        #expect(reason(#"{"log_history": [{"loss": 9e+}]}"#)?.hasPrefix("not valid JSON") == true)
        #expect(reason(#"{"log_history": [{"loss": -}]}"#)?.hasPrefix("not valid JSON") == true)
    }

    @Test func nonFiniteTokensAreReadOnlyOutsideStrings() throws {
        let state = try state(#"{"log_history": [{"loss": -Infinity, "step": 10, "note": "NaN \"Infinity\" -Infinity"}, {"loss":NaN,"step":20}]}"#)
        #expect(state.value(of: .trainLoss, atStep: 10) == -.infinity)
        #expect(state.value(of: .trainLoss, atStep: 20)?.isNaN == true)
        #expect(PythonJSON.quotingNonFinite(Data(#"{"a": "NaN", "b": [NaN, -Infinity]}"#.utf8))
            == Data(#"{"a": "NaN", "b": ["NaN", "-Infinity"]}"#.utf8))
        let plain = Data(#"{"step": 1, "loss": 2.5}"#.utf8)
        #expect(PythonJSON.quotingNonFinite(plain) == plain)
        #expect(reason(#"{"log_history": [{"loss": NaNa, "step": 1}]}"#)?.hasPrefix("not valid JSON") == true)
    }

    @Test func sidecarWithInvalidUTF8() {
        let bytes: [UInt8] = Array(#"{"step": 1,"#.utf8) + [0xF8] + Array(#" "loss": 1}"#.utf8)
        #expect(throws: IngestError.invalidTrainerState(
            path: "m.json", reason: #"must be {"step": <integer>, "loss": <number>} (not valid UTF-8 (byte 0xF8 at offset 11))"#)) {
            try MetricsSidecar.decode(Data(bytes), path: "m.json")
        }
    }
}
