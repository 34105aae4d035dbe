/// mwad's version, for `--version`, the ledger's daemon row, manifests and the merged
/// file's metadata. In the first module every other one imports, so that none of them
/// reaches into a later stage (Publish) for it.
public enum MWADVersion {
    public static let current = "0.1.0"
}
