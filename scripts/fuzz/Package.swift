// swift-tools-version:6.0
import PackageDescription

/// libFuzzer harnesses for VeriSplit's parsers, kept out of the main package so its normal
/// build and tests never see them. Build and run with `scripts/fuzz.sh` (it passes
/// `-sanitize=fuzzer,address -parse-as-library`; libFuzzer supplies `main`).
let package = Package(
    name: "VeriSplitFuzz",
    dependencies: [.package(name: "VeriSplit", path: "../..")],
    targets: [
        .executableTarget(
            name: "verisplit-fuzz",
            dependencies: ["Algebra", "Circuit", "Groth16", "Commitment", "NeuralNet", "ZKML", "DP", "SplitLearning"].map {
                .product(name: $0, package: "VeriSplit")
            }),
    ],
    swiftLanguageModes: [.v6]
)
