import Foundation

/// A problem in a model spec, with the JSON path where it is (e.g. `layers[2].out`).
public struct ModelSpecError: Error, Equatable, CustomStringConvertible {
    public let path: String
    public let message: String

    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }

    public var description: String { "model spec: \(path): \(message)" }
}

/// One layer of a model spec.
public enum LayerSpec: Sendable, Equatable {
    case dense(name: String, inFeatures: Int, outFeatures: Int, bias: Bool)
    case conv2d(name: String, inChannels: Int, outChannels: Int, kernel: Int, stride: Int, padding: Int, bias: Bool)
    case relu(name: String)
    case flatten(name: String)
    case maxPool2d(name: String, kernel: Int, stride: Int)
    case avgPool2d(name: String, kernel: Int, stride: Int)

    /// The layer's name (unique within a spec).
    public var name: String {
        switch self {
        case let .dense(name, _, _, _), let .conv2d(name, _, _, _, _, _, _), let .relu(name),
            let .flatten(name), let .maxPool2d(name, _, _), let .avgPool2d(name, _, _):
            return name
        }
    }

    /// The JSON `type` string.
    public var typeName: String {
        switch self {
        case .dense: return "dense"
        case .conv2d: return "conv2d"
        case .relu: return "relu"
        case .flatten: return "flatten"
        case .maxPool2d: return "maxpool2d"
        case .avgPool2d: return "avgpool2d"
        }
    }

    /// A fresh layer (zero weights) for this spec.
    public func makeLayer() -> any Layer {
        switch self {
        case let .dense(name, i, o, b): return Dense(name: name, inFeatures: i, outFeatures: o, bias: b)
        case let .conv2d(name, i, o, k, s, p, b):
            return Conv2d(name: name, inChannels: i, outChannels: o, kernel: k, stride: s, padding: p, bias: b)
        case let .relu(name): return ReLU(name: name)
        case let .flatten(name): return Flatten(name: name)
        case let .maxPool2d(name, k, s): return MaxPool2d(name: name, kernel: k, stride: s)
        case let .avgPool2d(name, k, s): return AvgPool2d(name: name, kernel: k, stride: s)
        }
    }

    /// The per-sample output shape for `shape`, or nil. Computed without building the layer:
    /// a Dense or Conv2d allocates its weights, which validating a spec must not do.
    public func outputShape(forInput shape: [Int]) -> [Int]? {
        switch self {
        case let .dense(_, i, o, _): return shape == [i] ? [o] : nil
        case let .conv2d(_, i, o, k, s, p, _):
            return Conv2d.outputShape(forInput: shape, inChannels: i, outChannels: o, kernel: k, stride: s, padding: p)
        case .relu, .flatten, .maxPool2d, .avgPool2d: return makeLayer().outputShape(forInput: shape)
        }
    }

    fileprivate var json: [String: Any] {
        switch self {
        case let .dense(name, i, o, b): return ["type": "dense", "name": name, "in": i, "out": o, "bias": b]
        case let .conv2d(name, i, o, k, s, p, b):
            return [
                "type": "conv2d", "name": name, "in_channels": i, "out_channels": o, "kernel": k,
                "stride": s, "padding": p, "bias": b,
            ]
        case let .relu(name): return ["type": "relu", "name": name]
        case let .flatten(name): return ["type": "flatten", "name": name]
        case let .maxPool2d(name, k, s): return ["type": "maxpool2d", "name": name, "kernel": k, "stride": s]
        case let .avgPool2d(name, k, s): return ["type": "avgpool2d", "name": name, "kernel": k, "stride": s]
        }
    }
}

/// The architecture shared by training, the split protocol and the circuits: input shape, layers,
/// loss, initialization and the cut point (client keeps `layers[0..<cut]`, server the rest).
///
/// JSON form:
/// ```json
/// {"name": "mlp", "input": [784], "loss": "softmax_cross_entropy", "init": "kaiming", "cut": 2,
///  "layers": [{"type": "dense", "name": "fc1", "in": 784, "out": 128}, {"type": "relu"},
///             {"type": "dense", "name": "fc2", "in": 128, "out": 10}]}
/// ```
/// Layer types: `dense` (in, out, bias?), `conv2d` (in_channels, out_channels, kernel, stride?=1,
/// padding?=0, bias?), `relu`, `flatten`, `maxpool2d`/`avgpool2d` (kernel, stride?=kernel).
/// `name` is optional (default `<type><index>`); unknown keys are rejected so typos surface.
public struct ModelSpec: Sendable, Equatable {
    public var name: String
    public var inputShape: [Int]
    public var layers: [LayerSpec]
    public var cut: Int?
    public var loss: Loss
    public var initialization: WeightInit
    /// Per-sample shape after each layer (`shapes[0]` is the input); computed by validation.
    public private(set) var shapes: [[Int]]

    /// Builds and validates a spec. Throws the first inconsistency (shapes, names, cut).
    public init(
        name: String, inputShape: [Int], layers: [LayerSpec], cut: Int? = nil,
        loss: Loss = .softmaxCrossEntropy, initialization: WeightInit = .kaiming
    ) throws(ModelSpecError) {
        self.name = name
        self.inputShape = inputShape
        self.layers = layers
        self.cut = cut
        self.loss = loss
        self.initialization = initialization
        self.shapes = []
        self.shapes = try validate()
    }

    /// Largest tensor (per-sample activation or weight) a spec may ask for: 2^31 elements.
    public static let maxElements = 1 << 31

    /// Number of output classes (size of the last layer's output).
    public var outputSize: Int { shapes.last?.reduce(1, *) ?? 0 }

    private func validate() throws(ModelSpecError) -> [[Int]] {
        guard !inputShape.isEmpty, inputShape.count <= 3, inputShape.allSatisfy({ $0 > 0 }) else {
            throw ModelSpecError(
                path: "input",
                message: "must be 1 to 3 positive dimensions, e.g. [784] or [1, 28, 28]; got \(inputShape)")
        }
        guard let inputCount = elementCount(inputShape), inputCount <= ModelSpec.maxElements else {
            throw ModelSpecError(path: "input", message: "more than \(ModelSpec.maxElements) elements per sample")
        }
        guard !layers.isEmpty else { throw ModelSpecError(path: "layers", message: "must list at least one layer") }
        var seen = Set<String>()
        var shapes = [inputShape]
        for (i, spec) in layers.enumerated() {
            let path = "layers[\(i)]"
            guard !spec.name.isEmpty, !spec.name.contains(".") else {
                throw ModelSpecError(path: "\(path).name", message: "must be non-empty and contain no '.'")
            }
            guard seen.insert(spec.name).inserted else {
                throw ModelSpecError(path: "\(path).name", message: "duplicate layer name '\(spec.name)'")
            }
            let shape = shapes[i]
            switch spec {
            case let .dense(_, inF, outF, _):
                guard inF > 0, outF > 0 else {
                    throw ModelSpecError(path: path, message: "in and out must be positive")
                }
                guard shape == [inF] else {
                    let hint = shape.count > 1 ? " (add a flatten layer before it)" : ""
                    throw ModelSpecError(
                        path: "\(path).in", message: "dense expects [\(inF)] but receives \(shape)\(hint)")
                }
            case let .conv2d(_, inC, outC, k, s, p, _):
                guard inC > 0, outC > 0, k > 0, s > 0, p >= 0 else {
                    throw ModelSpecError(
                        path: path, message: "channels, kernel and stride must be positive, padding non-negative")
                }
                guard shape.count == 3, shape[0] == inC else {
                    throw ModelSpecError(
                        path: "\(path).in_channels", message: "conv2d expects [\(inC), H, W] but receives \(shape)")
                }
            case let .maxPool2d(_, k, s), let .avgPool2d(_, k, s):
                guard k > 0, s > 0 else {
                    throw ModelSpecError(path: path, message: "kernel and stride must be positive")
                }
                guard shape.count == 3 else {
                    throw ModelSpecError(
                        path: path, message: "\(spec.typeName) expects [C, H, W] but receives \(shape)")
                }
            case .relu, .flatten:
                break
            }
            let weightShape: [Int]
            switch spec {
            case let .dense(_, i, o, _): weightShape = [o, i]
            case let .conv2d(_, i, o, k, _, _, _): weightShape = [o, i, k, k]
            default: weightShape = []
            }
            guard let weights = elementCount(weightShape), weights <= ModelSpec.maxElements else {
                throw ModelSpecError(
                    path: path, message: "weight shape \(weightShape) has more than \(ModelSpec.maxElements) elements")
            }
            guard let next = spec.outputShape(forInput: shape), next.allSatisfy({ $0 > 0 }),
                let nextCount = elementCount(next), nextCount <= ModelSpec.maxElements
            else {
                throw ModelSpecError(
                    path: path, message: "\(spec.typeName) cannot take input \(shape) (window larger than the input?)")
            }
            shapes.append(next)
        }
        if let cut, !(1..<layers.count).contains(cut) {
            throw ModelSpecError(
                path: "cut", message: "must be in 1...\(layers.count - 1) (client keeps layers[0..<cut]); got \(cut)")
        }
        if loss == .softmaxCrossEntropy, shapes.last?.count != 1 {
            throw ModelSpecError(
                path: "layers",
                message: "softmax_cross_entropy needs a 1-D output per sample; last shape is \(shapes.last ?? [])")
        }
        return shapes
    }

    /// A model with freshly initialized weights (deterministic in `seed`).
    public func makeModel(seed: UInt64 = 0) -> Sequential {
        var model = Sequential(layers: layers.map { $0.makeLayer() }, inputShape: inputShape)
        var rng = SeededGenerator(seed: seed)
        initialization.apply(to: &model, generator: &rng)
        return model
    }

    /// The client and server halves as specs (the server's input is the activation at the cut).
    /// Throws if the spec has no cut.
    public func split() throws(ModelSpecError) -> (client: ModelSpec, server: ModelSpec) {
        guard let cut else { throw ModelSpecError(path: "cut", message: "the spec has no cut point; add \"cut\": N") }
        let client = try ModelSpec(
            name: name + ".client", inputShape: inputShape, layers: Array(layers[..<cut]),
            loss: .mse, initialization: initialization)
        let server = try ModelSpec(
            name: name + ".server", inputShape: shapes[cut], layers: Array(layers[cut...]),
            loss: loss, initialization: initialization)
        return (client, server)
    }

    // MARK: - JSON

    /// Parses and validates a spec from JSON bytes.
    public static func parse(_ data: Data) throws(ModelSpecError) -> ModelSpec {
        let root: Any
        do {
            root = try JSONSerialization.jsonObject(with: data)
        } catch {
            throw ModelSpecError(path: "$", message: "not valid JSON (\(error.localizedDescription))")
        }
        guard let obj = root as? [String: Any] else {
            throw ModelSpecError(path: "$", message: "must be a JSON object")
        }
        try checkKeys(obj, allowed: ["name", "input", "layers", "cut", "loss", "init", "description"], path: "$")
        let name = try string(obj, "name", path: "", default: "model")
        let input = try intArray(obj, "input", path: "")
        guard let rawLayers = obj["layers"] as? [Any] else {
            throw ModelSpecError(path: "layers", message: "required: an array of layer objects")
        }
        var layers = [LayerSpec]()
        for (i, raw) in rawLayers.enumerated() {
            let path = "layers[\(i)]"
            guard let l = raw as? [String: Any] else { throw ModelSpecError(path: path, message: "must be an object") }
            let type = try string(l, "type", path: path, default: nil)
            let lname = try string(l, "name", path: path, default: "\(type)\(i)")
            switch type {
            case "dense":
                try checkKeys(l, allowed: ["type", "name", "in", "out", "bias"], path: path)
                layers.append(
                    .dense(
                        name: lname, inFeatures: try int(l, "in", path: path),
                        outFeatures: try int(l, "out", path: path),
                        bias: try bool(l, "bias", path: path, default: true)))
            case "conv2d":
                try checkKeys(
                    l, allowed: ["type", "name", "in_channels", "out_channels", "kernel", "stride", "padding", "bias"],
                    path: path)
                layers.append(
                    .conv2d(
                        name: lname, inChannels: try int(l, "in_channels", path: path),
                        outChannels: try int(l, "out_channels", path: path), kernel: try int(l, "kernel", path: path),
                        stride: try int(l, "stride", path: path, default: 1),
                        padding: try int(l, "padding", path: path, default: 0),
                        bias: try bool(l, "bias", path: path, default: true)))
            case "relu":
                try checkKeys(l, allowed: ["type", "name"], path: path)
                layers.append(.relu(name: lname))
            case "flatten":
                try checkKeys(l, allowed: ["type", "name"], path: path)
                layers.append(.flatten(name: lname))
            case "maxpool2d", "avgpool2d":
                try checkKeys(l, allowed: ["type", "name", "kernel", "stride"], path: path)
                let k = try int(l, "kernel", path: path)
                let s = try int(l, "stride", path: path, default: k)
                layers.append(
                    type == "maxpool2d"
                        ? .maxPool2d(name: lname, kernel: k, stride: s) : .avgPool2d(name: lname, kernel: k, stride: s))
            default:
                throw ModelSpecError(
                    path: "\(path).type",
                    message: "unknown layer type '\(type)'; use dense, conv2d, relu, flatten, maxpool2d or avgpool2d")
            }
        }
        let cut: Int? = obj["cut"] == nil ? nil : try int(obj, "cut", path: "")
        let lossName = try string(obj, "loss", path: "", default: Loss.softmaxCrossEntropy.rawValue)
        guard let loss = Loss(rawValue: lossName) else {
            throw ModelSpecError(
                path: "loss",
                message: "unknown loss '\(lossName)'; use \(Loss.allCases.map(\.rawValue).joined(separator: " or "))")
        }
        let initName = try string(obj, "init", path: "", default: WeightInit.kaiming.rawValue)
        guard let initialization = WeightInit(rawValue: initName) else {
            throw ModelSpecError(
                path: "init",
                message:
                    "unknown init '\(initName)'; use \(WeightInit.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return try ModelSpec(
            name: name, inputShape: input, layers: layers, cut: cut, loss: loss, initialization: initialization)
    }

    /// Reads and validates a spec file.
    public static func load(_ url: URL) throws(ModelSpecError) -> ModelSpec {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw ModelSpecError(path: url.path, message: "cannot read file (\(error.localizedDescription))")
        }
        return try parse(data)
    }

    /// The spec as pretty-printed JSON with sorted keys (parses back to an equal spec).
    public func jsonData() -> Data {
        var obj: [String: Any] = [
            "name": name, "input": inputShape, "layers": layers.map(\.json),
            "loss": loss.rawValue, "init": initialization.rawValue,
        ]
        if let cut { obj["cut"] = cut }
        return (try? JSONSerialization.data(withJSONObject: obj, options: [.prettyPrinted, .sortedKeys])) ?? Data()
    }

    // MARK: - Field readers with paths

    private static func field(_ path: String, _ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    private static func checkKeys(_ obj: [String: Any], allowed: Set<String>, path: String) throws(ModelSpecError) {
        if let bad = obj.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw ModelSpecError(
                path: path, message: "unknown key '\(bad)'; allowed: \(allowed.sorted().joined(separator: ", "))")
        }
    }

    private static func int(
        _ obj: [String: Any], _ key: String, path: String, default def: Int? = nil
    ) throws(ModelSpecError) -> Int {
        guard let v = obj[key] else {
            if let def { return def }
            throw ModelSpecError(path: field(path, key), message: "required integer is missing")
        }
        guard let i = jsonInteger(v) else {
            throw ModelSpecError(path: field(path, key), message: "must be an integer, got \(v)")
        }
        return i
    }

    private static func bool(
        _ obj: [String: Any], _ key: String, path: String, default def: Bool
    ) throws(ModelSpecError) -> Bool {
        guard let v = obj[key] else { return def }
        guard let b = jsonBool(v) else {
            throw ModelSpecError(path: field(path, key), message: "must be true or false")
        }
        return b
    }

    private static func string(
        _ obj: [String: Any], _ key: String, path: String, default def: String?
    ) throws(ModelSpecError) -> String {
        guard let v = obj[key] else {
            if let def { return def }
            throw ModelSpecError(path: field(path, key), message: "required string is missing")
        }
        guard let s = v as? String else { throw ModelSpecError(path: field(path, key), message: "must be a string") }
        return s
    }

    private static func intArray(_ obj: [String: Any], _ key: String, path: String) throws(ModelSpecError) -> [Int] {
        guard let arr = obj[key] as? [Any] else {
            throw ModelSpecError(
                path: field(path, key), message: "required: an array of integers, e.g. [784] or [1, 28, 28]")
        }
        var out = [Int]()
        for (i, v) in arr.enumerated() {
            guard let x = jsonInteger(v) else {
                throw ModelSpecError(path: "\(field(path, key))[\(i)]", message: "must be an integer, got \(v)")
            }
            out.append(x)
        }
        return out
    }
}

extension ModelSpec {
    /// Names of the example specs bundled with the module (`Resources/models/<name>.json`).
    public static let bundledNames = ["mlp-784-128-10", "cnn-small"]

    /// Loads a bundled example spec by name, e.g. `"mlp-784-128-10"`.
    public static func bundled(_ name: String) throws(ModelSpecError) -> ModelSpec {
        guard let url = Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "Resources/models")
        else {
            throw ModelSpecError(
                path: name, message: "no bundled spec of that name; known: \(bundledNames.joined(separator: ", "))")
        }
        return try load(url)
    }

    /// Loads `argument` as a file path, or, if no such file exists, as a bundled spec name.
    public static func resolve(_ argument: String) throws(ModelSpecError) -> ModelSpec {
        if FileManager.default.fileExists(atPath: argument) { return try load(URL(fileURLWithPath: argument)) }
        if bundledNames.contains(argument) { return try bundled(argument) }
        throw ModelSpecError(
            path: argument, message: "no such file, and not a bundled spec (\(bundledNames.joined(separator: ", ")))")
    }
}

/// A JSON number that is an exact integer, or nil. Foundation bridges JSON `true` to an NSNumber that
/// also casts to Int (and `1` to one that casts to Bool), so booleans are told apart by their
/// Objective-C type code "c".
func jsonInteger(_ v: Any) -> Int? {
    guard let n = v as? NSNumber, String(cString: n.objCType) != "c" else { return nil }
    let d = n.doubleValue
    guard d.rounded() == d, abs(d) < 9.0e15 else { return nil }
    return n.intValue
}

/// A JSON boolean (`true`/`false`), not a number.
func jsonBool(_ v: Any) -> Bool? {
    guard let n = v as? NSNumber, String(cString: n.objCType) == "c" else { return nil }
    return n.boolValue
}
