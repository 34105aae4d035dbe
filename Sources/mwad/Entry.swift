import CLI
import Foundation

/// The executable: everything lives in the CLI library.
@main
struct Entry {
    static func main() async {
        // libdispatch's event thread asks for nice -4; unprivileged that fails (EACCES) and
        // libdispatch reports it through syslog at notice level, once per start: a line
        // that reads like trouble in `journalctl -p notice` but changes nothing (mwad's
        // work runs at nice 0). Under systemd its report goes to stderr instead, which
        // journald files at info. Read lazily, at libdispatch's first report: set here,
        // before any work is queued. A value the user set is kept.
        if ProcessInfo.processInfo.environment["JOURNAL_STREAM"] != nil {
            setenv("LIBDISPATCH_LOG", "stderr", 0)
        }
        await MWADCommand.main()
    }
}
