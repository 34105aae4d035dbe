import Ingest
import SafeTensors

/// One member of a merge: its adapter and its normalised weight.
public struct MergeInput: Sendable {
    /// The member's name in errors (e.g. `checkpoint-80`).
    public var name: String
    public var file: SafeTensorsFile
    public var weight: Double
    /// Every value is already known to be finite (the ingest scanned them while it
    /// copied the file), so ``MergeMethod/checkMember(_:reference:)`` need not read them.
    public var valuesKnownFinite: Bool
    /// The member's `adapter_config.json`: its LoRA scaling, which the exact methods
    /// need (nil where the caller has none; those methods then refuse the member).
    public var config: AdapterConfig?
    /// The adapter's format: where its scaling is when it has no config.
    public var format: AdapterFormat

    public init(name: String, file: SafeTensorsFile, weight: Double, valuesKnownFinite: Bool = false, config: AdapterConfig? = nil,
                format: AdapterFormat = .peft) {
        self.name = name
        self.format = format
        self.file = file
        self.weight = weight
        self.valuesKnownFinite = valuesKnownFinite
        self.config = config
    }
}
