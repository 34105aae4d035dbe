/// What a folder's name says about it: HF Trainer and diffusers name checkpoints
/// `checkpoint-<step>`, torchtune `epoch_<N>`.
public enum CheckpointName: Equatable, Sendable {
    /// A checkpoint folder and its step.
    case checkpoint(step: Int64)
    /// Named like a checkpoint but unusable (why), e.g. `checkpoint-abc`.
    case malformed(reason: String)
    /// Not a checkpoint at all (including the trainer's `tmp-checkpoint-*` staging
    /// folders, which are renamed when complete and must not be read before).
    case other

    static let prefix = "checkpoint-"

    /// `checkpoint-<step>`.
    public init(_ name: String) { self.init(name, prefix: Self.prefix, noun: "step number") }

    /// `<prefix><number>`, e.g. `epoch_3`; `noun` names the number in reasons.
    public init(_ name: String, prefix: String, noun: String) {
        guard name.hasPrefix(prefix) else { self = .other; return }
        let digits = name.dropFirst(prefix.count)
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            self = .malformed(reason: "'\(digits)' is not a \(noun)")
            return
        }
        guard digits == "0" || !digits.hasPrefix("0") else {
            self = .malformed(reason: "\(noun) '\(digits)' has leading zeros")
            return
        }
        guard let step = Int64(digits) else {
            self = .malformed(reason: "\(noun) \(digits) does not fit in a 64-bit integer")
            return
        }
        self = .checkpoint(step: step)
    }
}
