import Foundation
@testable import Merge
import MWADTestKit
import Testing

/// LAPACK is loaded when svd first runs, not linked: where it cannot be had, svd says
/// what to install and the other methods are untouched.
@Suite struct LAPACKLoadingTests {
    @Test func aMissingLibrarySaysWhatToInstall() throws {
        let result = LAPACK.load(["/nonexistent/liblapacke.so.3", "libmwad-no-such-lapacke.so.3"])
        guard case .failure(let error) = result else { Issue.record("loaded: \(result)"); return }
        let text = error.description
        #expect(text.contains("the svd method needs LAPACK at run time"), "\(text)")
        #expect(text.contains("apt-get install liblapacke") && text.contains("MWAD_LAPACKE") && text.contains("method delta or linear"))
        #expect(text.contains("libmwad-no-such-lapacke.so.3"), "each attempt is named: \(text)")
    }

    @Test func aLibraryWithoutTheRoutinesIsPassedOver() throws {
        let result = LAPACK.load(["libc.so.6"])
        guard case .failure(let error) = result else { Issue.record("loaded: \(result)"); return }
        #expect(error.description.contains("libc.so.6 lacks LAPACKE_dgeqrf"), "\(error)")
    }

    @Test func theOverrideComesFirstThenBesideTheExecutable() {
        let paths = LAPACK.candidates(environment: ["MWAD_LAPACKE": "/opt/lapack/liblapacke.so.3"], executable: "/venv/lib/mwad/bin/mwad")
        #expect(paths == ["/opt/lapack/liblapacke.so.3", "/venv/lib/mwad/bin/lib/liblapacke.so.3", "liblapacke.so.3", "liblapacke.so"])
    }

    /// On this machine (CI installs liblapacke) the system's library loads.
    @Test(.enabled(if: LAPACKInstalled.here, Comment(rawValue: LAPACKInstalled.reason))) func theSystemLibraryLoads() throws {
        let routines = try LAPACK.load(["liblapacke.so.3"]).get()
        #expect(routines.library == "liblapacke.so.3")
    }
}
