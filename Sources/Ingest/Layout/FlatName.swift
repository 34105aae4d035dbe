/// The name of a checkpoint file in a flat run folder, as the trainers write it:
/// kohya sd-scripts `NAME-step00000500.safetensors` (by step, eight digits) and
/// `NAME-000003.safetensors` (by epoch, six), ostris ai-toolkit
/// `NAME_000000500.safetensors` (by step, nine). Wider numbers are taken too (a run
/// past the padding); the final `NAME.safetensors` and mwad's `NAME-mwa.safetensors`
/// carry no number and are no checkpoint.
public enum FlatName: Equatable, Sendable {
    /// A kohya file saved at `step`.
    case kohyaStep(name: String, step: Int64)
    /// A kohya file saved at the end of `epoch` (one-based); its step is in its metadata.
    case kohyaEpoch(name: String, epoch: Int64)
    /// An ai-toolkit file saved at `step`.
    case aiToolkitStep(name: String, step: Int64)

    static let suffix = ".safetensors"

    /// Parses `file`, nil when it is not named like a checkpoint.
    public init?(_ file: String) {
        guard file.hasSuffix(Self.suffix), !file.hasPrefix(".") else { return nil }
        let stem = Substring(file.dropLast(Self.suffix.count))
        if let (name, step) = Self.split(stem, separator: "-step", digits: 8) {
            self = .kohyaStep(name: name, step: step)
        } else if let (name, step) = Self.split(stem, separator: "_", digits: 9) {
            self = .aiToolkitStep(name: name, step: step)
        } else if let (name, epoch) = Self.split(stem, separator: "-", digits: 6) {
            self = .kohyaEpoch(name: name, epoch: epoch)
        } else {
            return nil
        }
    }

    /// The run's name, NAME.
    public var name: String {
        switch self {
        case .kohyaStep(let name, _), .kohyaEpoch(let name, _), .aiToolkitStep(let name, _): name
        }
    }

    /// Whether the name is ai-toolkit's.
    public var isAIToolkit: Bool {
        if case .aiToolkitStep = self { true } else { false }
    }

    /// `NAME<separator><at least digits digits>`, the number fitting in 64 bits.
    private static func split(_ stem: Substring, separator: String, digits: Int) -> (String, Int64)? {
        let number = stem.reversed().prefix { $0.isASCII && $0.isNumber }
        guard number.count >= digits else { return nil }
        let head = stem.dropLast(number.count)
        guard head.hasSuffix(separator), head.count > separator.count, let value = Int64(String(number.reversed())) else { return nil }
        return (String(head.dropLast(separator.count)), value)
    }
}
