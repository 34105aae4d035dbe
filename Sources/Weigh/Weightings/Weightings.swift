/// The weightings built into mwad, one line each. The catalog of everything mwad
/// knows (built-in and registered) is `Catalog` in the Settings module;
/// `docs/create_a_weighting.md` says how to add one.
public enum Weightings {
    public static let builtIn: [WeightingDescription] = [
        LossWeighting.description,
        StepWeighting.description,
        UniformWeighting.description,
        EMAWeighting.description,
        ScheduleWeighting.description,
        LossRangeWeighting.description,
    ]
}
