import CLI

/// The executable: everything lives in the CLI library.
@main
struct Entry {
    static func main() async {
        await MWADCommand.main()
    }
}
