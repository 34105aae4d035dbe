import Merge
import Synchronization
import Weigh

/// Every weighting and merge method mwad knows: the built-in ones and any registered
/// at run time (a plug-in, a test's). Config keys, flags, `--help`, validation,
/// candidates, manifests and status read their descriptions from here only.
public final class Catalog: Sendable {
    /// The catalog the program uses.
    public static let shared = Catalog()

    private let state: Mutex<State>

    /// A catalog of the built-in weightings and methods, their parameter names checked
    /// (a clash there is a programming error: it stops at once).
    public init() {
        state = Mutex(State())
        for weighting in Weightings.builtIn { try! register(weighting) }
        for method in MergeMethods.builtIn { try! register(method) }
    }

    public var weightings: [WeightingDescription] { state.withLock { $0.weightings } }

    /// Whether anything was registered beside the built-in weightings and methods.
    public var hasRegisteredParts: Bool {
        state.withLock { $0.weightings.count > Weightings.builtIn.count || $0.methods.count > MergeMethods.builtIn.count }
    }
    public var methods: [MethodDescription] { state.withLock { $0.methods } }

    /// Every declared parameter once, with its owners, in declaration order.
    public var parameters: [(parameter: MergeParameter, owners: [String])] {
        var list: [(parameter: MergeParameter, owners: [String])] = []
        let owned = weightings.flatMap { w in w.parameters.map { ($0, "weighting \(w.name)") } }
            + methods.flatMap { m in m.parameters.map { ($0, "method \(m.name)") } }
        for (parameter, owner) in owned {
            if let index = list.firstIndex(where: { $0.parameter.name == parameter.name }) { list[index].owners.append(owner) } else {
                list.append((parameter, [owner]))
            }
        }
        return list
    }

    /// The declaration of the parameter `name`, if any weighting or method has one.
    public func parameter(_ name: String) -> MergeParameter? {
        parameters.first { $0.parameter.name == name }?.parameter
    }

    /// Who declares `name`: `weighting ema`, `method svd`.
    public func owners(of name: String) -> [String] {
        parameters.first { $0.parameter.name == name }?.owners ?? []
    }

    public func weighting(_ name: String) throws(WeighError) -> WeightingDescription {
        guard let found = weightings.first(where: { $0.name == name }) else {
            throw .invalidSetting(name: "weighting", value: name, allowed: "one of " + weightings.map(\.name).joined(separator: ", "))
        }
        return found
    }

    public func method(_ name: String) throws(WeighError) -> MethodDescription {
        guard let found = methods.first(where: { $0.name == name }) else {
            throw .invalidSetting(name: "method", value: name, allowed: "one of " + methods.map(\.name).joined(separator: ", "))
        }
        return found
    }

    /// Adds a weighting; refused when its name is taken or a parameter's name clashes.
    public func register(_ weighting: WeightingDescription) throws(CatalogError) {
        try add(kind: "weighting", name: weighting.name, parameters: weighting.parameters, taken: { $0.weightings.map(\.name) }) {
            $0.weightings.append(weighting)
        }
    }

    /// Adds a merge method; refused when its name is taken or a parameter's name clashes.
    public func register(_ method: MethodDescription) throws(CatalogError) {
        try add(kind: "method", name: method.name, parameters: method.parameters, taken: { $0.methods.map(\.name) }) {
            $0.methods.append(method)
        }
    }

    private struct State {
        var weightings: [WeightingDescription] = []
        var methods: [MethodDescription] = []
        /// Names no parameter may take, with what each is (``reserve(_:as:)``).
        var reserved: [String: String] = [:]
    }

    private func add(kind: String, name: String, parameters: [MergeParameter], taken: (State) -> [String],
                     append: (inout State) -> Void) throws(CatalogError) {
        try state.withLock { (state: inout State) throws(CatalogError) in
            guard !taken(state).contains(name) else { throw CatalogError(reason: "a \(kind) named \(name) is in the catalog already") }
            try Self.check(parameters, owner: "\(kind) \(name)", against: state)
            append(&state)
        }
    }

    /// The settings every merge has: no parameter may take one of their names.
    public static let settingNames: Set<String> = MergeSettings.fixedKeys

    /// Reserves `names` (`snake_case`) for something else than a parameter (`what`,
    /// said in the refusal). The command line reserves its options here
    /// (`CommandOptions.reserve`), read from the commands themselves: a parameter
    /// `NAME` becomes the flag `--NAME` and the key `merge.NAME`, which would take an
    /// option or a config key of that name over. Refused when a parameter in the
    /// catalog has one of the names already.
    public func reserve(_ names: Set<String>, as what: String) throws(CatalogError) {
        try state.withLock { (state: inout State) throws(CatalogError) in
            let known = state.weightings.flatMap(\.parameters) + state.methods.flatMap(\.parameters)
            if let clash = known.first(where: { names.contains($0.name) }) {
                throw CatalogError(reason: "a parameter is named \(clash.name), which is \(what)")
            }
            for name in names where state.reserved[name] == nil { state.reserved[name] = what }
        }
    }

    /// One name, one parameter: each is a `merge.NAME` key and a `--NAME` flag, so a
    /// name may be declared twice only as the same parameter (loss and step share
    /// `penalty`), and never as one of the settings every merge has.
    private static func check(_ parameters: [MergeParameter], owner: String, against state: State) throws(CatalogError) {
        let known = state.weightings.flatMap(\.parameters) + state.methods.flatMap(\.parameters)
        var seen = Set<String>()
        for parameter in parameters {
            guard !settingNames.contains(parameter.name) else {
                throw CatalogError(reason: "\(owner) declares a parameter named \(parameter.name), which is a setting of every merge")
            }
            if let what = state.reserved[parameter.name] {
                throw CatalogError(reason: "\(owner) declares a parameter named \(parameter.name), which is \(what)")
            }
            guard seen.insert(parameter.name).inserted else { throw CatalogError(reason: "\(owner) declares \(parameter.name) twice") }
            if let other = known.first(where: { $0.name == parameter.name }), other != parameter {
                throw CatalogError(reason: "\(owner) declares a parameter \(parameter.name) unlike the one of that name already in the catalog")
            }
        }
    }
}

/// Why a weighting or method could not join the catalog.
public struct CatalogError: Error, Sendable, CustomStringConvertible {
    public var reason: String
    public var description: String { reason }
}
