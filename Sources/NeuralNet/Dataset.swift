import Foundation

/// Why a data set could not be loaded.
public enum DatasetError: Error, Equatable, CustomStringConvertible {
    case idx(file: String, IDXError)
    case missingFile(directory: String, candidates: [String])
    case countMismatch(images: Int, labels: Int)
    case labelOutOfRange(index: Int, label: Int, classes: Int)
    case badLabel(index: Int, value: Float)
    case csv(line: Int, column: Int, reason: String)
    case empty(String)
    case io(path: String, reason: String)
    case resourceMissing(String)
    case noSystemDataset(path: String)

    public var description: String {
        switch self {
        case let .idx(file, e): return "\(file): \(e)"
        case let .missingFile(dir, candidates):
            return "\(dir): none of \(candidates.joined(separator: ", ")) exists (expected MNIST-style IDX files)"
        case let .countMismatch(images, labels): return "\(images) images but \(labels) labels"
        case let .labelOutOfRange(index, label, classes):
            return "label \(label) of sample \(index) is outside 0..<\(classes)"
        case let .badLabel(index, value): return "label \(value) of sample \(index) is not a non-negative integer"
        case let .csv(line, column, reason): return "CSV line \(line), column \(column): \(reason)"
        case let .empty(what): return "\(what) has no samples"
        case let .io(path, reason): return "\(path): \(reason)"
        case let .resourceMissing(name): return "bundled resource '\(name)' is missing from the NeuralNet bundle"
        case let .noSystemDataset(path):
            return
                "no Fashion-MNIST at \(path); install it with `apt-get install dataset-fashion-mnist` or pass --data DIR"
        }
    }
}

/// A labelled classification data set held in memory: `features` is `[N] + sampleShape`.
public struct Dataset: Sendable {
    public private(set) var features: Tensor
    public let labels: [Int]
    public let classCount: Int
    /// Labels read from files must be below this (so they fit any integer type and a one-hot row).
    public static let maxLabel = 999_999

    /// Validates that there is one label per sample and every label is in `0..<classCount`.
    public init(features: Tensor, labels: [Int], classCount: Int) throws(DatasetError) {
        guard features.rank >= 1, features.shape[0] == labels.count else {
            throw .countMismatch(images: features.rank >= 1 ? features.shape[0] : 0, labels: labels.count)
        }
        if let bad = labels.firstIndex(where: { $0 < 0 || $0 >= classCount }) {
            throw .labelOutOfRange(index: bad, label: labels[bad], classes: classCount)
        }
        self.features = features
        self.labels = labels
        self.classCount = classCount
    }

    /// For data derived from an already validated set.
    private init(validatedFeatures: Tensor, labels: [Int], classCount: Int) {
        self.features = validatedFeatures
        self.labels = labels
        self.classCount = classCount
    }

    /// Number of samples.
    public var count: Int { labels.count }
    /// Shape of one sample.
    public var sampleShape: [Int] { Array(features.shape.dropFirst()) }
    /// Elements per sample.
    public var sampleSize: Int { sampleShape.reduce(1, *) }

    /// Gathers the samples at `indices` into a batch tensor `[k] + sampleShape` and its labels.
    /// O(k * sampleSize); one allocation per batch.
    public func batch<C: Collection>(_ indices: C) -> (features: Tensor, labels: [Int]) where C.Element == Int {
        let size = sampleSize
        let k = indices.count
        let t = Tensor(shape: [k] + sampleShape) { out in
            features.withUnsafeBufferPointer { src in
                for (row, i) in indices.enumerated() {
                    (out.baseAddress! + row * size).update(from: src.baseAddress! + i * size, count: size)
                }
            }
        }
        return (t, indices.map { labels[$0] })
    }

    /// The subset at `indices`, in that order. Precondition: indices in `0..<count`.
    public func subset(_ indices: [Int]) -> Dataset {
        let b = batch(indices)
        // Labels come from a validated set, so the subset is valid too.
        return Dataset(validatedFeatures: b.features, labels: b.labels, classCount: classCount)
    }

    /// Sample order for one epoch: `0..<count`, shuffled by `generator` when given (Fisher-Yates).
    public func epochOrder(generator: inout SeededGenerator?) -> [Int] {
        var order = Array(0..<count)
        if generator != nil { generator!.shuffle(&order) }
        return order
    }

    /// Splits `order` into consecutive batches of `size` (the last may be smaller).
    public static func batches(_ order: [Int], size: Int) -> [ArraySlice<Int>] {
        precondition(size > 0, "batch size must be positive")
        return stride(from: 0, to: order.count, by: size).map { order[$0..<min($0 + size, order.count)] }
    }

    /// Multiplies every feature by `factor` (e.g. 1/255 for pixels).
    public mutating func scaleFeatures(by factor: Float) { features.scale(by: factor) }

    /// Applies a standardizer fitted elsewhere (e.g. on the training set).
    public mutating func standardize(with s: Standardizer) { s.apply(to: &features) }
}

/// Feature standardization `(x - mean) / std`, fitted on training data and reused on test data.
/// `perFeature` fits one mean/std per feature; otherwise one global pair (what images want).
public struct Standardizer: Sendable, Equatable {
    public let mean: [Float]
    public let std: [Float]

    public init(mean: [Float], std: [Float]) {
        precondition(mean.count == std.count && !mean.isEmpty)
        self.mean = mean
        self.std = std
    }

    /// Fits on `data`. Standard deviations below 1e-6 become 1 (constant features pass through
    /// centred). O(N * D), accumulated in Double.
    public static func fit(_ data: Dataset, perFeature: Bool = false) -> Standardizer {
        let d = data.sampleSize
        let groups = perFeature ? d : 1
        var sum = [Double](repeating: 0, count: groups)
        var sq = [Double](repeating: 0, count: groups)
        data.features.withUnsafeBufferPointer { p in
            for i in 0..<p.count {
                let g = perFeature ? i % d : 0
                let v = Double(p[i])
                sum[g] += v
                sq[g] += v * v
            }
        }
        let n = Double(max(1, perFeature ? data.count : data.count * d))
        let mean = sum.map { $0 / n }
        let std = zip(sq, mean).map { s, m -> Double in
            let v = max(0, s / n - m * m).squareRoot()
            return v < 1e-6 ? 1 : v
        }
        return Standardizer(mean: mean.map(Float.init), std: std.map(Float.init))
    }

    /// Standardizes `features` in place (`[N] + sampleShape`). O(count).
    public func apply(to features: inout Tensor) {
        let groups = mean.count
        let (m, s) = (mean, std.map { 1 / $0 })
        features.withUnsafeMutableBufferPointer { p in
            if groups == 1 {
                for i in 0..<p.count { p[i] = (p[i] - m[0]) * s[0] }
            } else {
                for i in 0..<p.count { p[i] = (p[i] - m[i % groups]) * s[i % groups] }
            }
        }
    }

    /// Metadata form, so a model file can carry the preprocessing it was trained with.
    public var metadata: [String: String] {
        [
            "standardize_mean": mean.map { "\($0)" }.joined(separator: ","),
            "standardize_std": std.map { "\($0)" }.joined(separator: ","),
        ]
    }

    /// Reads the `metadata` form back; nil if absent or malformed.
    public init?(metadata: [String: String]) {
        guard let m = metadata["standardize_mean"]?.split(separator: ",").compactMap({ Float($0) }),
            let s = metadata["standardize_std"]?.split(separator: ",").compactMap({ Float($0) }),
            !m.isEmpty, m.count == s.count, s.allSatisfy({ $0 > 0 })
        else { return nil }
        self.init(mean: m, std: s)
    }
}

// MARK: - MNIST-family IDX data sets

/// Where image data comes from.
public enum DataSource: Sendable, Equatable, CustomStringConvertible {
    /// The seeded Fashion-MNIST subset shipped inside the package (4000 train / 1000 test).
    case bundled
    /// The full Fashion-MNIST from the Debian package `dataset-fashion-mnist`.
    case system
    /// A directory with `train-images-idx3-ubyte[.gz]`, `train-labels-idx1-ubyte[.gz]`,
    /// `t10k-images-idx3-ubyte[.gz]`, `t10k-labels-idx1-ubyte[.gz]`.
    case directory(URL)

    /// The full Fashion-MNIST if the Debian package is installed, else the bundled subset.
    public static var detected: DataSource {
        FileManager.default.fileExists(atPath: MNISTFamily.debianFashionPath + "/train-images-idx3-ubyte.gz")
            ? .system : .bundled
    }

    /// Parses a command-line value: `bundled`, `system`, `auto` (see `detected`), or a directory path.
    public init(argument: String) {
        switch argument {
        case "bundled": self = .bundled
        case "auto": self = .detected
        case "system", "fashion-mnist": self = .system
        default: self = .directory(URL(fileURLWithPath: argument))
        }
    }

    public var description: String {
        switch self {
        case .bundled: return "bundled Fashion-MNIST subset"
        case .system: return "Fashion-MNIST (\(MNISTFamily.debianFashionPath))"
        case let .directory(url): return url.path
        }
    }
}

/// Loader for MNIST-style IDX data sets (MNIST, Fashion-MNIST, KMNIST...). Pixels are scaled to
/// [0, 1]; samples have shape `[1, 28, 28]` for 3-D image files.
public enum MNISTFamily {
    /// Where the Debian package `dataset-fashion-mnist` installs its gzipped IDX files.
    public static let debianFashionPath = "/usr/share/datasets/fashion-mnist"

    /// Fashion-MNIST class names, by label.
    public static let fashionClassNames = [
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
        "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    ]

    /// Loads the train and test splits from `source`.
    public static func load(_ source: DataSource) throws(DatasetError) -> (train: Dataset, test: Dataset) {
        switch source {
        case .bundled:
            guard
                let dir = Bundle.module.url(
                    forResource: "fashion-subset", withExtension: nil, subdirectory: "Resources")
            else {
                throw .resourceMissing("fashion-subset")
            }
            return try load(directory: dir)
        case .system:
            let dir = URL(fileURLWithPath: debianFashionPath)
            guard FileManager.default.fileExists(atPath: dir.appendingPathComponent("train-images-idx3-ubyte.gz").path)
            else {
                throw .noSystemDataset(path: debianFashionPath)
            }
            return try load(directory: dir)
        case let .directory(dir):
            return try load(directory: dir)
        }
    }

    /// Loads both splits from a directory of IDX files (gzipped or plain).
    public static func load(directory: URL) throws(DatasetError) -> (train: Dataset, test: Dataset) {
        let train = try split(directory: directory, prefix: "train")
        let test = try split(directory: directory, prefix: "t10k")
        return (train, test)
    }

    /// Loads one split (`train` or `t10k`) from `directory`.
    public static func split(directory: URL, prefix: String) throws(DatasetError) -> Dataset {
        let images = try readIDX(directory: directory, base: "\(prefix)-images-idx3-ubyte")
        let labels = try readIDX(directory: directory, base: "\(prefix)-labels-idx1-ubyte")
        return try dataset(images: images, labels: labels)
    }

    /// Pairs an image array (`[N, H, W]` or `[N, D]`) with a label array (`[N]`), scaling pixels to [0, 1].
    public static func dataset(images: IDXArray, labels: IDXArray) throws(DatasetError) -> Dataset {
        guard let n = images.dimensions.first, n > 0 else { throw .empty("image file") }
        guard labels.dimensions.count == 1, labels.dimensions[0] == n else {
            throw .countMismatch(images: n, labels: labels.dimensions.first ?? 0)
        }
        var intLabels = [Int]()
        intLabels.reserveCapacity(n)
        for (i, v) in labels.values.enumerated() {
            guard v >= 0, v == v.rounded(), v <= Float(Dataset.maxLabel) else { throw .badLabel(index: i, value: v) }
            intLabels.append(Int(v))
        }
        let shape: [Int] = images.dimensions.count == 3 ? [n, 1] + images.dimensions.dropFirst() : images.dimensions
        let features = Tensor(shape: shape) { out in
            images.values.withUnsafeBufferPointer { src in
                for i in 0..<out.count { out[i] = src[i] * (1 / 255) }
            }
        }
        return try Dataset(features: features, labels: intLabels, classCount: max(10, (intLabels.max() ?? 0) + 1))
    }

    private static func readIDX(directory: URL, base: String) throws(DatasetError) -> IDXArray {
        let candidates = [base + ".gz", base, base.replacingOccurrences(of: "-idx", with: ".idx") + ".gz"]
        for name in candidates {
            let url = directory.appendingPathComponent(name)
            if FileManager.default.fileExists(atPath: url.path) {
                do { return try IDX.read(url) } catch { throw .idx(file: url.path, error) }
            }
        }
        throw .missingFile(directory: directory.path, candidates: candidates)
    }
}

// MARK: - CSV

extension Dataset {
    /// Parses a numeric CSV: one sample per line, the label in column `labelColumn` (default: the
    /// last), features in the others. A first line with a non-numeric field is taken as a header.
    /// Blank lines are skipped. Every row must have the same number of fields. O(text size).
    public static func csv(
        _ text: String, labelColumn: Int? = nil, classCount: Int? = nil
    ) throws(DatasetError) -> Dataset {
        var width = -1
        var lineNumber = 0
        var labels = [Int]()
        var values = [Float]()
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            lineNumber += 1
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty { continue }
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map {
                $0.trimmingCharacters(in: .whitespaces)
            }
            let numbers = fields.map { Float($0) }
            if labels.isEmpty && width < 0 && numbers.contains(where: { $0 == nil }) {
                width = fields.count
                continue
            }
            if width < 0 { width = fields.count }
            guard fields.count == width else {
                throw .csv(
                    line: lineNumber, column: min(fields.count, width) + 1,
                    reason: "expected \(width) fields, found \(fields.count)")
            }
            guard width >= 2 else {
                throw .csv(line: lineNumber, column: 1, reason: "need a label and at least one feature")
            }
            let lc = labelColumn ?? width - 1
            guard lc >= 0 && lc < width else {
                throw .csv(line: lineNumber, column: lc + 1, reason: "label column outside the \(width) fields")
            }
            var row = [Float]()
            row.reserveCapacity(width - 1)
            for (c, v) in numbers.enumerated() {
                guard let v, v.isFinite else {
                    throw .csv(line: lineNumber, column: c + 1, reason: "'\(fields[c])' is not a finite number")
                }
                if c == lc {
                    guard v >= 0, v == v.rounded(), v <= Float(Dataset.maxLabel) else {
                        throw .csv(
                            line: lineNumber, column: c + 1,
                            reason: "label '\(fields[c])' is not an integer in 0...\(Dataset.maxLabel)")
                    }
                    labels.append(Int(v))
                } else {
                    row.append(v)
                }
            }
            values.append(contentsOf: row)
        }
        guard !labels.isEmpty else { throw .empty("CSV") }
        let classes = classCount ?? ((labels.max() ?? 0) + 1)
        let features = Tensor(shape: [labels.count, width - 1]) { out in
            for i in 0..<out.count { out[i] = values[i] }
        }
        return try Dataset(features: features, labels: labels, classCount: classes)
    }
}
