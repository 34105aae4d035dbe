#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// The three LAPACK routines the svd method calls, loaded at run time from LAPACKE
/// (`liblapacke.so.3`, Debian's `liblapacke`) so that building mwad needs no LAPACK
/// headers and every other method works where LAPACK is not installed. Looked up once;
/// where it cannot be had, ``routines`` says what to install.
enum LAPACK {
    typealias Geqrf = @convention(c) (Int32, Int32, Int32, UnsafeMutablePointer<Double>?, Int32, UnsafeMutablePointer<Double>?) -> Int32
    typealias Gesvd = @convention(c) (Int32, CChar, CChar, Int32, Int32, UnsafeMutablePointer<Double>?, Int32,
                                      UnsafeMutablePointer<Double>?, UnsafeMutablePointer<Double>?, Int32,
                                      UnsafeMutablePointer<Double>?, Int32, UnsafeMutablePointer<Double>?) -> Int32
    typealias Ormqr = @convention(c) (Int32, CChar, CChar, Int32, Int32, Int32, UnsafePointer<Double>?, Int32,
                                      UnsafePointer<Double>?, UnsafeMutablePointer<Double>?, Int32) -> Int32

    /// LAPACKE's `LAPACK_COL_MAJOR`.
    static let columnMajor: Int32 = 102

    struct Routines: @unchecked Sendable {
        let dgeqrf: Geqrf
        let dgesvd: Gesvd
        let dormqr: Ormqr
        /// The file it was loaded from, for `mwad --version`-style reports.
        let library: String
    }

    /// The environment variable naming a LAPACKE library to load instead of the system's.
    static let overrideVariable = "MWAD_LAPACKE"

    /// Where LAPACKE is looked for, in order: the override, a `lib/` folder beside the
    /// executable (where a self-contained install such as the wheel puts it), the
    /// dynamic linker's own search by soname.
    static func candidates(environment: [String: String] = ProcessInfo.processInfo.environment,
                           executable: String? = Bundle.main.executablePath) -> [String] {
        var paths: [String] = []
        if let path = environment[overrideVariable], !path.isEmpty { paths.append(path) }
        if let executable {
            let folder = ((executable as NSString).resolvingSymlinksInPath as NSString).deletingLastPathComponent
            paths.append("\(folder)/lib/liblapacke.so.3")
        }
        paths += ["liblapacke.so.3", "liblapacke.so"]
        return paths
    }

    /// The routines, or why they cannot be had (what to install).
    static let routines: Result<Routines, MergeError> = load(candidates())

    static func load(_ candidates: [String]) -> Result<Routines, MergeError> {
        var tried: [String] = []
        for path in candidates {
            if path.contains("/"), !FileManager.default.fileExists(atPath: path) { continue }
            guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL) else {
                tried.append(String(cString: dlerror()))
                continue
            }
            guard let geqrf = dlsym(handle, "LAPACKE_dgeqrf"), let gesvd = dlsym(handle, "LAPACKE_dgesvd"),
                  let ormqr = dlsym(handle, "LAPACKE_dormqr") else {
                tried.append("\(path) lacks LAPACKE_dgeqrf, LAPACKE_dgesvd or LAPACKE_dormqr")
                dlclose(handle)
                continue
            }
            return .success(Routines(dgeqrf: unsafeBitCast(geqrf, to: Geqrf.self), dgesvd: unsafeBitCast(gesvd, to: Gesvd.self),
                                     dormqr: unsafeBitCast(ormqr, to: Ormqr.self), library: path))
        }
        return .failure(.lapackUnavailable(tried: tried))
    }
}
