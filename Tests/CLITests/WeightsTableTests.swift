import Foundation
import MWADTestKit
import Testing

/// The members' table shows what weighed: under ema each member's age in steps and the
/// half-life as resolved for the window, not the step repeated as a metric.
@Suite struct WeightsTableTests {
    let dir = TemporaryDirectory("mwad-weights")

    @Test func underEMATheTableShowsAgesAndTheResolvedHalfLife() throws {
        let result = try MWADProcess.run(["merge", Fixtures.f32Run, "--out", dir.file("out"), "--dry-run"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == """
            ema weighting (half_life 0) · auto method · window the last 3
            step  checkpoint     age (steps)    weight
              60  checkpoint-60           20  0.226541
              70  checkpoint-70           10  0.320377
              80  checkpoint-80            0  0.453082
            half_life auto = 20 steps (two save intervals)
            dry run: nothing was written

            """, "\(result.stdout)")
        let json = try MWADProcess.run(["merge", Fixtures.f32Run, "--out", dir.file("out"), "--dry-run", "--json", "--half-life", "40"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(object["weighed_by"] as? String == "age (steps) 20, 10, 0; half_life 40 steps", "\(json.stdout)")
    }

    /// `mwad status` of a daemon's merge under ema: the same columns.
    @Test func statusShowsTheSameColumns() throws {
        let run = dir.file("run")
        try FileManager.default.copyItem(atPath: Fixtures.f32Run, toPath: run)
        let ledger = dir.file("state/ledger.sqlite")
        let once = try MWADProcess.run(["run", "--once", "--watch", run, "--ledger", ledger])
        #expect(once.status == 0, "\(once.stderr)")
        let status = try MWADProcess.run(["status", "--ledger", ledger]).stdout
        #expect(status.contains("step  checkpoint     age (steps)    weight"), "\(status)")
        #expect(status.contains("half_life auto = 20 steps (two save intervals)"))
        #expect(status.contains("auto → delta; output rank 24 per module"), "\(status)")
    }
}
