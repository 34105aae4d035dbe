// swift-tools-version:6.1
import PackageDescription

// The targets follow the data flow: ingest (find and read checkpoints) → weigh (MWA
// weights) → merge (weighted sum of tensors) → publish (atomic output folder), with
// the safetensors format underneath and a thin `mwad` executable on top.
let package = Package(
    name: "mwad",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "mwad", targets: ["mwad"]),
        .library(name: "SafeTensors", targets: ["SafeTensors"]),
        // For the fuzz targets in Fuzz/, which reach the parsers through these.
        .library(name: "Ingest", targets: ["Ingest"]),
        .library(name: "TensorBoard", targets: ["TensorBoard"]),
        .library(name: "Daemon", targets: ["Daemon"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.0.0"),
        .package(url: "https://github.com/apple/swift-system", from: "1.4.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        .package(url: "https://github.com/apple/swift-configuration", from: "1.0.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.28.0"),
        // Tests only: a clock moved by hand, for the daemon's loop in virtual time.
        .package(url: "https://github.com/pointfreeco/swift-clocks", from: "1.0.0"),
    ],
    targets: [
        // Linux calls the Glibc module does not expose (renameat2, statfs).
        .target(name: "CLinuxSupport"),
        .target(
            name: "SafeTensors",
            dependencies: ["CLinuxSupport", .product(name: "SystemPackage", package: "swift-system")]
        ),
        // TensorBoard event files: TFRecord framing and the Event protobuf (generated
        // from Protos/ by scripts/generate-protos.sh and committed), read and written.
        .target(name: "TensorBoard", dependencies: [.product(name: "SwiftProtobuf", package: "swift-protobuf")]),
        .target(
            name: "Ingest",
            dependencies: ["SafeTensors", "TensorBoard", .product(name: "Crypto", package: "swift-crypto")]
        ),
        // Weightings, windows and the parameters both they and merge methods declare.
        // The value stored with each merge (its settings, window, parameter values,
        // the method's report), its JSON and its fingerprint: no catalog, so that the
        // ledger reads it as it was written.
        .target(name: "SettingsValue", dependencies: ["Ingest"]),
        .target(name: "Weigh", dependencies: ["Ingest", "SettingsValue"]),
        // The svd method loads LAPACKE at run time (Merge/Lora/LAPACK.swift): building
        // needs no LAPACK, and every other method works without it.
        .target(name: "Merge", dependencies: ["SafeTensors", "Weigh"]),
        // One value for everything that decides a merge's bytes, validated against
        // the catalog of weightings and methods.
        .target(name: "Settings", dependencies: ["Ingest", "SettingsValue", "Weigh", "Merge", "Ledger"]),
        .target(name: "Publish", dependencies: ["Ingest", "SafeTensors", "Weigh", "Settings", "Merge", "Ledger", "HostFileSystem", "CLinuxSupport"]),
        // The host's file systems: network or local (where inotify and SQLite WAL
        // fail), and the POSIX calls durable writes share (mkdtemp, directory fsync).
        .target(name: "HostFileSystem", dependencies: ["CLinuxSupport"]),
        .target(
            name: "Ledger",
            dependencies: ["Ingest", "SettingsValue", "HostFileSystem", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        .target(name: "Status", dependencies: ["Ingest", "SettingsValue", "Ledger"]),
        // inotify: what changed in the watched directory, or above it while it is missing.
        .target(name: "Watch"),
        // Prometheus metrics from the ledger, for node_exporter's textfile collector.
        .target(
            name: "MetricsExport",
            dependencies: ["Ledger", "SettingsValue", "HostFileSystem", .product(name: "Prometheus", package: "swift-prometheus")]
        ),
        // Measuring each merge on the user's evaluation; publishing the best adapter.
        .target(
            name: "Evaluate",
            dependencies: ["Ingest", "Weigh", "Settings", "Publish", "Ledger", "HostFileSystem", "TensorBoard", .product(name: "Logging", package: "swift-log")]
        ),
        // The long-running service: configuration, ingest, rolling merge, systemd.
        .target(
            name: "Daemon",
            dependencies: [
                "Ingest", "Weigh", "Settings", "Merge", "Publish", "Ledger", "Watch", "HostFileSystem", "SafeTensors", "MetricsExport", "Evaluate", "TensorBoard",
                "CLinuxSupport",
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "CLI",
            dependencies: [
                "Ingest", "Weigh", "Settings", "Merge", "Publish", "Ledger", "Status", "Daemon", "HostFileSystem",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(name: "mwad", dependencies: ["CLI"]),
        // `scripts/bench.sh`: merge throughput against numpy and the I/O floor.
        .executableTarget(name: "mwad-bench", dependencies: ["Merge", "SafeTensors"], path: "Sources/MWADBench"),

        .target(
            name: "MWADTestKit",
            dependencies: ["SafeTensors", "Ingest", "TensorBoard"],
            path: "Tests/MWADTestKit"
        ),
        .testTarget(name: "SafeTensorsTests", dependencies: ["SafeTensors", "MWADTestKit"]),
        .testTarget(name: "IngestTests", dependencies: ["Ingest", "MWADTestKit"]),
        .testTarget(name: "TensorBoardTests", dependencies: ["TensorBoard", "MWADTestKit"]),
        .testTarget(name: "WeighTests", dependencies: ["Weigh", "Settings", "MWADTestKit"]),
        .testTarget(name: "MergeTests", dependencies: ["Merge", "Weigh", "Ingest", "MWADTestKit"]),
        .testTarget(name: "PublishTests", dependencies: ["Publish", "MWADTestKit"]),
        .testTarget(name: "LedgerTests", dependencies: ["Ledger", "HostFileSystem", "Weigh", "Settings", "MWADTestKit"]),
        .testTarget(name: "WatchTests", dependencies: ["Watch", "MWADTestKit"]),
        .testTarget(name: "DaemonTests", dependencies: ["Daemon", "Evaluate", "Ledger", "Ingest", "Publish", "SafeTensors", "Settings", "Status", "TensorBoard", "MWADTestKit", "HostFileSystem",
                                                      .product(name: "Clocks", package: "swift-clocks")]),
        .testTarget(name: "StatusTests", dependencies: ["Status", "Ledger", "Weigh", "Settings", "MetricsExport", "MWADTestKit"], exclude: ["Golden"]),
        .testTarget(
            name: "CLITests",
            dependencies: ["mwad", "CLI", "Daemon", "Status", "Ingest", "MWADTestKit", "SafeTensors", "Publish", "Ledger", "Merge", "Weigh", "Settings"]
        ),
    ]
)
