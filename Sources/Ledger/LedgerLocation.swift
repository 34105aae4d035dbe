import Foundation

/// Where a run's ledger lives by default: never beside the checkpoints, which are often
/// on a network file system where SQLite's WAL does not work.
///
/// - under systemd: `$STATE_DIRECTORY/ledger.sqlite` (the unit's `StateDirectory=`);
/// - otherwise: `$XDG_STATE_HOME/mwad/<run name>/ledger.sqlite`, where `XDG_STATE_HOME`
///   defaults to `~/.local/state` and the run name is a slug of the watched path.
public enum LedgerLocation {
    public static let fileName = "ledger.sqlite"

    /// The run's state folder (ledger, retained copies).
    public static func stateDirectory(watch: String, environment: [String: String]) -> String {
        if let systemd = environment["STATE_DIRECTORY"], !systemd.isEmpty {
            // systemd may list several, colon-separated; the first is the unit's own.
            return String(systemd.split(separator: ":").first!)
        }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        let xdg = environment["XDG_STATE_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? "\(home)/.local/state"
        return "\(xdg)/mwad/\(runName(watch))"
    }

    /// The default ledger path for the run watching `watch`.
    public static func ledger(watch: String, environment: [String: String]) -> String {
        "\(stateDirectory(watch: watch, environment: environment))/\(fileName)"
    }

    /// A readable slug of an absolute path: `/data/runs/llama 3` → `data-runs-llama-3`.
    public static func runName(_ watch: String) -> String {
        let absolute = URL(fileURLWithPath: watch).standardizedFileURL.path
        var slug = ""
        for scalar in absolute.unicodeScalars {
            let keep = scalar.isASCII && (CharacterSet.alphanumerics.contains(scalar) || scalar == "." || scalar == "_")
            if keep {
                slug.unicodeScalars.append(scalar)
            } else if !slug.isEmpty, !slug.hasSuffix("-") {
                slug += "-"
            }
        }
        while slug.hasSuffix("-") { slug.removeLast() }
        return slug.isEmpty ? "root" : slug
    }
}

extension LedgerLocation {
    /// The ledgers found where mwad puts them by default: `$STATE_DIRECTORY`, the
    /// systemd instances' `/var/lib/mwad/*/`, and `$XDG_STATE_HOME/mwad/*/`; each once.
    public static func knownLedgers(environment: [String: String], systemRoot: String = "/var/lib/mwad") -> [String] {
        var folders: [String] = []
        if let systemd = environment["STATE_DIRECTORY"], !systemd.isEmpty {
            folders += systemd.split(separator: ":").map(String.init)
        }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        let xdg = environment["XDG_STATE_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? "\(home)/.local/state"
        for root in [systemRoot, "\(xdg)/mwad"] {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
            folders += names.sorted().map { "\(root)/\($0)" }
        }
        var seen = Set<String>()
        return folders.map { "\($0)/\(fileName)" }.filter { FileManager.default.fileExists(atPath: $0) && seen.insert($0).inserted }
    }
}
