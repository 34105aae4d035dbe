import ArgumentParser
import Daemon
import Foundation
import Settings

/// The names of mwad's command-line options and the config keys beside the merge
/// settings, read from the commands and the config loader themselves, not listed by
/// hand: each is reserved in the catalog, since a parameter `NAME` becomes the flag
/// `--NAME` (`--layout` would set the parameter instead) and the key `merge.NAME`.
enum CommandOptions {
    /// Every long option of every command (`until_pid`, `layout`, …), from the
    /// commands' own description (ArgumentParser's help dump); the config keys that
    /// are flags of `mwad run` and `mwad eval` (``ConfigFlags``, rewritten before
    /// parsing); and the daemon's own `merge.*` keys.
    static func names() -> Set<String> {
        var names = longOptions(inHelpDump: MWADCommand._dumpHelp())
        names.formUnion(ConfigFlags.declared.map { String($0.flag.dropFirst(2)) })
        names.formUnion(ConfigLoader.daemonMergeKeys.map { String($0.dropFirst("merge.".count)) })
        return Set(names.map { $0.replacingOccurrences(of: "-", with: "_") })
    }

    /// Every long option (`until-pid`) of every command in an ArgumentParser help dump
    /// (`--experimental-dump-help`'s JSON).
    static func longOptions(inHelpDump dump: String) -> Set<String> {
        var names = Set<String>()
        func walk(_ command: [String: Any]) {
            for argument in command["arguments"] as? [[String: Any]] ?? [] {
                for name in argument["names"] as? [[String: Any]] ?? [] where name["kind"] as? String == "long" {
                    if let long = name["name"] as? String { names.insert(long) }
                }
            }
            for sub in command["subcommands"] as? [[String: Any]] ?? [] { walk(sub) }
        }
        let tree = try? JSONSerialization.jsonObject(with: Data(dump.utf8)) as? [String: Any]
        walk(tree?["command"] as? [String: Any] ?? [:])
        return names
    }

    /// Reserves ``names()`` in `catalog`; refused when a parameter there has one.
    static func reserve(in catalog: Catalog = .shared) throws(CatalogError) {
        try catalog.reserve(names(), as: "an option of mwad's commands or a config key")
    }
}
