/// What a folder's name says about it: HF Trainer names checkpoints `checkpoint-<step>`.
public enum CheckpointName: Equatable, Sendable {
    /// A checkpoint folder and its step.
    case checkpoint(step: Int64)
    /// Named like a checkpoint but unusable (why), e.g. `checkpoint-abc`.
    case malformed(reason: String)
    /// Not a checkpoint at all (including the trainer's `tmp-checkpoint-*` staging
    /// folders, which are renamed when complete and must not be read before).
    case other

    static let prefix = "checkpoint-"

    public init(_ name: String) {
        guard name.hasPrefix(Self.prefix) else { self = .other; return }
        let digits = name.dropFirst(Self.prefix.count)
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            self = .malformed(reason: "'\(digits)' is not a step number")
            return
        }
        guard digits == "0" || !digits.hasPrefix("0") else {
            self = .malformed(reason: "step number '\(digits)' has leading zeros")
            return
        }
        guard let step = Int64(digits) else {
            self = .malformed(reason: "step number \(digits) does not fit in a 64-bit integer")
            return
        }
        self = .checkpoint(step: step)
    }
}
