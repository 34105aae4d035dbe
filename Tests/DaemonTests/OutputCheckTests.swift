import Daemon
import Foundation
import MWADTestKit
import Testing

/// The start-up check of the output's place, without a mount namespace.
@Suite struct OutputCheckTests {
    let dir = TemporaryDirectory()

    @Test func aWritableParentIsFineEvenWhenItDoesNotExistYet() {
        #expect(OutputCheck.problem(output: dir.file("a/b/merged"), mountPoints: []) == nil)
    }

    @Test func theOutputAsAMountPointIsNamed() throws {
        let output = dir.file("merged")
        let problem = try #require(OutputCheck.problem(output: output, mountPoints: ["/", output]))
        #expect(problem.contains("ReadWritePaths=\(dir.path)"))
    }

    @Test func mountinfoEscapesAreRead() throws {
        let table = dir.file("mountinfo")
        try "36 35 98:0 / /mnt/with\\040space rw - ext4 /dev/x rw\n37 35 98:0 / / rw - ext4 /dev/y rw\n"
            .write(toFile: table, atomically: true, encoding: .utf8)
        #expect(MountTable.mountPoints(table) == ["/mnt/with space", "/"])
    }
}
