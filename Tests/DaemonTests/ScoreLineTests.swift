import Evaluate
import Foundation
import MWADTestKit
import Testing

/// The evaluator's answer, and the example evaluator's output format (checked without
/// torch: its formatting function is importable on its own).
@Suite struct ScoreLineTests {
    @Test func readsTheLastLine() {
        #expect(ScoreLine.score(in: "loading…\n{\"eval_loss\": 3.531, \"eval_tokens\": 40}\n\n", metric: "eval_loss") == .success(3.531))
        #expect(ScoreLine.score(in: "{\"accuracy\": 0.91}", metric: "accuracy") == .success(0.91))
    }

    @Test(arguments: [
        ("", "printed nothing"),
        ("3.5\n", "its last line is not a JSON object: 3.5"),
        ("{\"loss\": 3}", "its last line has no \"eval_loss\" (keys: loss)"),
        ("{\"eval_loss\": \"low\"}", "\"eval_loss\" is low, not a finite number"),
        ("{\"eval_loss\": true}", "not a finite number"),
        ("{\"eval_loss\": null}", "not a finite number"),
    ])
    func refusesWhatIsNoScore(_ stdout: String, _ reason: String) throws {
        guard case .failure(let error) = ScoreLine.score(in: stdout, metric: "eval_loss") else {
            Issue.record("\(stdout) gave a score")
            return
        }
        #expect(error.description.contains(reason), "\(error)")
    }

    /// `examples/eval_peft.py` prints the line mwad reads; its module loads without torch.
    @Test func theExampleEvaluatorsLineIsWhatMwadReads() throws {
        let examples = URL(fileURLWithPath: Fixtures.root).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("examples").path
        let code = "import sys; sys.path.insert(0, '\(examples)'); import eval_peft; print(eval_peft.result_line(35.3125, 10, 2))"
        let result = try MWADProcess.run(["-c", code], executable: "/usr/bin/python3")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(ScoreLine.score(in: result.stdout, metric: "eval_loss") == .success(3.53125), "\(result.stdout)")
        let help = try MWADProcess.run(["\(examples)/eval_peft.py", "--help"], executable: "/usr/bin/python3")
        #expect(help.status == 0 && help.stdout.contains("--base") && help.stdout.contains("--data"))
    }
}
