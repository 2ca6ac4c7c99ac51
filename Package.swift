// swift-tools-version:6.0
import PackageDescription

/// VeriSplit: verifiable split learning and privacy tooling.
/// Modules and the one direction of their imports: see README.md ("Modules").
let package = Package(
    name: "VeriSplit",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "verisplit", targets: ["VeriSplitCLI"]),
        .library(name: "Algebra", targets: ["Algebra"]),
        .library(name: "Circuit", targets: ["Circuit"]),
        .library(name: "Groth16", targets: ["Groth16"]),
        .library(name: "Commitment", targets: ["Commitment"]),
        .library(name: "NeuralNet", targets: ["NeuralNet"]),
        .library(name: "ZKML", targets: ["ZKML"]),
        .library(name: "DP", targets: ["DP"]),
        .library(name: "Attacks", targets: ["Attacks"]),
        .library(name: "Defenses", targets: ["Defenses"]),
        .library(name: "Report", targets: ["Report"]),
        .library(name: "Audit", targets: ["Audit"]),
        .library(name: "SplitLearning", targets: ["SplitLearning"]),
        .library(name: "Ceremony", targets: ["Ceremony"]),
        .library(name: "Demo", targets: ["Demo"]),
        .library(name: "ProverPool", targets: ["ProverPool"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        .systemLibrary(
            name: "CGMP", path: "Sources/CGMP",
            providers: [.apt(["libgmp-dev"]), .brew(["gmp"])]),
        .systemLibrary(
            name: "COpenSSL", path: "Sources/COpenSSL", pkgConfig: "libcrypto",
            providers: [.apt(["libssl-dev"]), .brew(["openssl@3"])]),
        .systemLibrary(
            name: "CZlib", path: "Sources/CZlib",
            providers: [.apt(["zlib1g-dev"]), .brew(["zlib"])]),
        .target(name: "CAlgebraKernels", path: "Sources/CAlgebraKernels"),
        // Bytes I/O, hex, SHA-256, JSON lines, the parallel-for, special functions (re-exported
        // by Algebra and NeuralNet).
        .target(name: "Support", dependencies: ["COpenSSL"]),
        .target(name: "Algebra", dependencies: ["Support", "CGMP", "COpenSSL", "CAlgebraKernels"]),
        // Cross-module optimization lets the circuits (ZKML, Commitment) specialize these generic
        // gadgets and linear combinations for Fr instead of running them through generic metadata.
        .target(
            name: "Circuit", dependencies: ["Algebra"],
            swiftSettings: [.unsafeFlags(["-cross-module-optimization"])]),
        .target(name: "Groth16", dependencies: ["Circuit", "Algebra", "Report"]),
        .target(name: "Commitment", dependencies: ["Circuit", "Algebra", "COpenSSL"]),
        .target(name: "CNeuralKernels", path: "Sources/CNeuralKernels"),
        .target(
            name: "NeuralNet", dependencies: ["Support", "CNeuralKernels", "CZlib"],
            resources: [.copy("Resources")]),
        .target(name: "ZKML", dependencies: ["Circuit", "Algebra", "Commitment", "NeuralNet", "Groth16"]),
        .target(name: "DP", dependencies: ["NeuralNet", "CNeuralKernels", "COpenSSL"]),
        .target(name: "Attacks", dependencies: ["NeuralNet", "Defenses", "DP", "CZlib"]),
        .target(name: "Defenses", dependencies: ["NeuralNet", "DP"]),
        .target(name: "Report"),
        .target(
            name: "SplitLearning",
            dependencies: [
                "ZKML", "Groth16", "Ceremony", "Commitment", "Circuit", "Algebra", "NeuralNet", "Report",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "Logging", package: "swift-log"),
            ],
            exclude: ["Protocol/split.proto"]),
        // The PostgreSQL proof-job queue (issue 20): SplitLearning knows only its `ProofService`
        // protocol; this module implements it on PostgreSQL and runs the prover workers.
        .target(
            name: "ProverPool",
            dependencies: [
                "SplitLearning", "ZKML", "NeuralNet", "Groth16", "Circuit", "Commitment", "Algebra", "Report",
                "Telemetry",
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]),
        // The Prometheus scrape endpoint (`--metrics-port`).
        .target(
            name: "Telemetry",
            dependencies: [
                "Support",
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]),
        .target(name: "Audit", dependencies: ["NeuralNet", "DP", "Report"]),
        .target(name: "Ceremony", dependencies: ["Groth16", "Circuit", "Algebra"]),
        .target(
            name: "Demo",
            dependencies: [
                "SplitLearning", "ZKML", "NeuralNet", "Attacks", "Defenses", "Audit", "Report",
                .product(name: "Logging", package: "swift-log"),
            ]),
        .executableTarget(
            name: "VeriSplitCLI",
            dependencies: [
                "Algebra", "Circuit", "Groth16", "Commitment", "NeuralNet", "ZKML", "DP", "Attacks", "Defenses",
                "Report", "Audit",
                "SplitLearning", "Ceremony", "Demo", "ProverPool",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        .testTarget(name: "SupportTests", dependencies: ["Support"]),
        .testTarget(name: "AlgebraTests", dependencies: ["Algebra", "CGMP", "CAlgebraKernels"]),
        .testTarget(
            name: "CircuitTests", dependencies: ["Circuit", "Algebra"],
            resources: [.copy("Resources/square64")]),
        .testTarget(
            name: "Groth16Tests", dependencies: ["Groth16", "Circuit", "Algebra", "Support"],
            resources: [.copy("Resources/square64")]),
        .testTarget(name: "CommitmentTests", dependencies: ["Commitment", "Circuit", "Algebra"]),
        .testTarget(name: "NeuralNetTests", dependencies: ["NeuralNet"]),
        .testTarget(
            name: "ZKMLTests", dependencies: ["ZKML", "Circuit", "Algebra", "Groth16", "Commitment", "NeuralNet"]),
        .testTarget(
            name: "DPTests", dependencies: ["DP", "NeuralNet"],
            resources: [.copy("Resources/dp-epsilon.json")]),
        .testTarget(name: "AttacksDefensesTests", dependencies: ["Attacks", "Defenses", "NeuralNet", "DP"]),
        .testTarget(name: "ReportTests", dependencies: ["Report"]),
        .testTarget(
            name: "SplitLearningTests",
            dependencies: [
                "SplitLearning", "Ceremony", "ZKML", "Groth16", "Commitment", "Circuit", "Algebra", "NeuralNet",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            resources: [.copy("Resources/tls")]),
        .testTarget(name: "AuditTests", dependencies: ["Audit", "NeuralNet", "Report"]),
        .testTarget(
            name: "CeremonyTests", dependencies: ["Ceremony", "Groth16", "Circuit", "Algebra"],
            resources: [.copy("Resources")]),
        .testTarget(name: "DemoTests", dependencies: ["Demo", "ZKML", "Report"]),
        .testTarget(
            name: "ProverPoolTests",
            dependencies: [
                "ProverPool", "SplitLearning", "ZKML", "Groth16", "Circuit", "Commitment", "Algebra", "NeuralNet",
                "Telemetry",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]),
        // Bad-input tests across the decoders (issue 24): one seeded mutation test per decoder.
        .testTarget(
            name: "HostileInputTests",
            dependencies: ["Algebra", "Circuit", "Groth16", "Ceremony", "NeuralNet", "DP", "ZKML"]),
    ],
    swiftLanguageModes: [.v6]
)
