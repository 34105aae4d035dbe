import SafeTensors

/// One member of a merge: its adapter and its normalised weight.
public struct MergeInput: Sendable {
    /// The member's name in errors (e.g. `checkpoint-80`).
    public var name: String
    public var file: SafeTensorsFile
    public var weight: Double

    public init(name: String, file: SafeTensorsFile, weight: Double) {
        self.name = name
        self.file = file
        self.weight = weight
    }
}
