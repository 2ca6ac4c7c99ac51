// swift-tools-version:6.0
import PackageDescription

/// VeriSplit: verifiable split learning and privacy tooling.
/// Module map and import directions: see README.md ("Modules").
let package = Package(
    name: "VeriSplit",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "verisplit", targets: ["VeriSplitCLI"]),
        .library(name: "Algebra", targets: ["Algebra"]),
        .library(name: "NeuralNet", targets: ["NeuralNet"]),
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
        .target(name: "Algebra", dependencies: ["CGMP", "COpenSSL"]),
        .systemLibrary(
            name: "CZlib", path: "Sources/CZlib",
            providers: [.apt(["zlib1g-dev"]), .brew(["zlib"])]),
        .target(name: "CNeuralKernels", path: "Sources/CNeuralKernels"),
        .target(
            name: "NeuralNet", dependencies: ["CNeuralKernels", "CZlib"],
            resources: [.copy("Resources")]),
        .executableTarget(
            name: "VeriSplitCLI",
            dependencies: [
                "Algebra",
                "NeuralNet",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        .testTarget(name: "AlgebraTests", dependencies: ["Algebra", "CGMP"]),
        .testTarget(name: "NeuralNetTests", dependencies: ["NeuralNet"]),
    ],
    swiftLanguageModes: [.v6]
)
