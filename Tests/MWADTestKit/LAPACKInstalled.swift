import Foundation

/// Whether LAPACKE can be loaded here, as the svd method loads it: a fresh machine
/// (Swift and libsqlite3-dev only) runs `swift test` with the svd tests skipped,
/// saying why; CI installs liblapacke and runs them.
public enum LAPACKInstalled {
    public static let here: Bool = {
        guard let handle = dlopen("liblapacke.so.3", RTLD_LAZY) else { return false }
        dlclose(handle)
        return true
    }()

    public static let reason = "the svd method needs liblapacke.so.3 at run time (apt-get install liblapacke)"
}
