// swift-tools-version:6.1
import PackageDescription

// libFuzzer targets for everything mwad parses from files it does not control. Built
// and run by `scripts/fuzz.sh TARGET SECONDS` with `--sanitize fuzzer --sanitize
// address`; kept out of the main package so that its normal build never links libFuzzer.
let package = Package(
    name: "mwad-fuzz",
    platforms: [.macOS(.v15)],
    dependencies: [.package(name: "mwad", path: "..")],
    targets: [
        .executableTarget(name: "FuzzSafeTensors", dependencies: [.product(name: "SafeTensors", package: "mwad")]),
        .executableTarget(name: "FuzzTrainerState", dependencies: [.product(name: "Ingest", package: "mwad")]),
        .executableTarget(name: "FuzzSidecar", dependencies: [.product(name: "Ingest", package: "mwad")]),
        .executableTarget(name: "FuzzConfig", dependencies: [.product(name: "Daemon", package: "mwad")]),
        .executableTarget(name: "FuzzEventFile", dependencies: [.product(name: "TensorBoard", package: "mwad")]),
        .executableTarget(name: "FuzzDiskLog", dependencies: [.product(name: "Ingest", package: "mwad")]),
        .executableTarget(name: "FuzzFlatFile", dependencies: [.product(name: "Ingest", package: "mwad"), .product(name: "SafeTensors", package: "mwad")]),
    ]
)
