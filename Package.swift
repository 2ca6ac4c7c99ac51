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
        .library(name: "NeuralNet", targets: ["NeuralNet"]),
        .library(name: "DP", targets: ["DP"]),
        .library(name: "Report", targets: ["Report"]),
        .library(name: "Audit", targets: ["Audit"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
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
        .target(name: "Algebra", dependencies: ["CGMP", "COpenSSL"]),
        .target(name: "Circuit", dependencies: ["Algebra"]),
        .target(name: "Groth16", dependencies: ["Circuit", "Algebra"]),
        .target(name: "CNeuralKernels", path: "Sources/CNeuralKernels"),
        .target(
            name: "NeuralNet", dependencies: ["CNeuralKernels", "CZlib"],
            resources: [.copy("Resources")]),
        .target(name: "DP", dependencies: ["NeuralNet"]),
        .target(name: "Report"),
        .target(name: "Audit", dependencies: ["NeuralNet", "DP", "Report"]),
        .executableTarget(
            name: "VeriSplitCLI",
            dependencies: [
                "Algebra", "Circuit", "Groth16", "NeuralNet", "DP", "Report", "Audit",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        .testTarget(name: "AlgebraTests", dependencies: ["Algebra", "CGMP"]),
        .testTarget(
            name: "CircuitTests", dependencies: ["Circuit", "Algebra"],
            resources: [.copy("Resources/square64")]),
        .testTarget(
            name: "Groth16Tests", dependencies: ["Groth16", "Circuit", "Algebra"],
            resources: [.copy("Resources/square64")]),
        .testTarget(name: "NeuralNetTests", dependencies: ["NeuralNet"]),
        .testTarget(
            name: "DPTests", dependencies: ["DP", "NeuralNet"],
            resources: [.copy("Resources/dp-epsilon.json")]),
        .testTarget(name: "ReportTests", dependencies: ["Report"]),
        .testTarget(name: "AuditTests", dependencies: ["Audit", "NeuralNet", "Report"]),
    ],
    swiftLanguageModes: [.v6]
)
