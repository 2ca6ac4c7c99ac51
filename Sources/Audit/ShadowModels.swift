import Foundation
import NeuralNet
import Report

/// Shadow (LiRA) or reference (RMIA) models: models of the target's architecture, trained with the
/// target's recipe on random halves of a data pool, and their outputs on every pool example.
public struct ShadowModels: Sendable {
    /// `masks[k][i]`: whether model k trained on pool example i.
    public let masks: [[Bool]]
    /// Outputs of model k on the whole pool.
    public let outputs: [ExampleOutputs]
    /// The trained models, in mask order.
    public let models: [Sequential]
    /// How many models came from the on-disk cache instead of being trained.
    public let cacheHits: Int
    /// Wall-clock seconds spent training and evaluating.
    public let seconds: Double

    public var count: Int { masks.count }

    public init(masks: [[Bool]], outputs: [ExampleOutputs], models: [Sequential], cacheHits: Int, seconds: Double) {
        self.masks = masks
        self.outputs = outputs
        self.models = models
        self.cacheHits = cacheHits
        self.seconds = seconds
    }

    /// The models at `range` (e.g. all but a target at index 0).
    public func slice(_ range: Range<Int>) -> ShadowModels {
        ShadowModels(
            masks: Array(masks[range]), outputs: Array(outputs[range]), models: Array(models[range]),
            cacheHits: cacheHits, seconds: seconds)
    }
}

/// Where trained shadow models are kept between audits: one safetensors file per model, named by
/// the SHA-256 of everything that determines its weights (spec, pool data, inclusion mask, seed,
/// trainer hyperparameters). A second audit with the same inputs loads instead of training.
public struct ShadowCache: Sendable {
    public let directory: URL

    public init(directory: URL) { self.directory = directory }

    /// `$XDG_CACHE_HOME/verisplit/shadow-models`, else `~/.cache/verisplit/shadow-models`.
    public static var defaultDirectory: URL {
        if let xdg = ProcessInfo.processInfo.environment["XDG_CACHE_HOME"], !xdg.isEmpty {
            return URL(fileURLWithPath: xdg).appendingPathComponent("verisplit/shadow-models")
        }
        return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/verisplit/shadow-models")
    }

    /// The cache the audit commands use: `path`, else `defaultDirectory`; none when `disabled`.
    public static func directory(path: String?, disabled: Bool) -> URL? {
        disabled ? nil : (path.map { URL(fileURLWithPath: $0) } ?? defaultDirectory)
    }

    /// SHA-256 of the pool's shape, features (bit patterns) and labels.
    public static func fingerprint(_ data: Dataset) -> String {
        let h = SHA256.Hasher()
        h.update("dataset-v1")
        for d in data.features.shape { h.update(UInt64(d)) }
        data.features.withUnsafeBufferPointer { h.update(floats: $0) }
        for l in data.labels { h.update(UInt64(l)) }
        h.update(UInt64(data.classCount))
        return Hex.encode(h.finalize())
    }

    /// The cache key of one model.
    public static func key(
        spec: ModelSpec, dataFingerprint: String, mask: [Bool], seed: UInt64, trainer: any ModelTrainer
    ) -> String {
        let h = SHA256.Hasher()
        h.update("verisplit-shadow-v1")
        h.update(String(decoding: spec.jsonData(), as: UTF8.self))
        h.update(dataFingerprint)
        h.update(mask.map { $0 ? UInt8(1) : UInt8(0) })
        h.update(seed)
        h.update(trainer.identity)
        return Hex.encode(h.finalize())
    }

    func url(_ key: String) -> URL { directory.appendingPathComponent("\(key).safetensors") }

    /// The cached model for `key`, or nil if absent or unusable (wrong key, shapes, corrupt file).
    func load(key: String, spec: ModelSpec) -> Sequential? {
        let file = url(key)
        guard FileManager.default.fileExists(atPath: file.path) else { return nil }
        var model = spec.makeModel()
        guard let meta = try? model.loadSafetensors(from: file), meta["cache_key"] == key else { return nil }
        return model
    }

    func store(_ model: Sequential, key: String, metadata: [String: String]) throws(AuditError) {
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw .writeFailed(
                path: directory.path, reason: "\(error.localizedDescription); pass another --cache-dir or --no-cache")
        }
        var meta = metadata
        meta["cache_key"] = key
        do {
            try model.saveSafetensors(to: url(key), metadata: meta)
        } catch {
            throw .writeFailed(path: url(key).path, reason: "\(error); pass another --cache-dir or --no-cache")
        }
    }
}

/// Training of shadow and reference models.
public enum ShadowTraining {
    /// Inclusion masks for `models` models over `examples` examples in which every example is in
    /// the training set of exactly floor(models/2) models (the balanced design of Carlini et al.
    /// 2022, so each example has IN and OUT models to fit). Deterministic in `seed`.
    public static func balancedMasks(models: Int, examples: Int, seed: UInt64) -> [[Bool]] {
        var rng = SeededGenerator(seed: seed ^ 0xA11D_17)
        var masks = [[Bool]](repeating: [Bool](repeating: false, count: examples), count: models)
        let half = models / 2
        var order = Array(0..<models)
        for i in 0..<examples {
            rng.shuffle(&order)
            for k in order.prefix(half) { masks[k][i] = true }
        }
        return masks
    }

    /// A target's training mask: exactly floor(examples/2) examples chosen uniformly at random,
    /// independently of any shadow masks. Keep the target out of the shadows' balanced design: in
    /// a leave-one-out design with few models, an example's share of IN reference models would
    /// depend on whether the target trained on it (7 of 15 vs 8 of 15 for 16 models), which
    /// biases RMIA's Pr(x) in the attacker's favour.
    public static func randomHalf(examples: Int, seed: UInt64) -> [Bool] {
        var rng = SeededGenerator(seed: seed ^ 0x7A26_E7)
        var order = Array(0..<examples)
        rng.shuffle(&order)
        var mask = [Bool](repeating: false, count: examples)
        for i in order.prefix(examples / 2) { mask[i] = true }
        return mask
    }

    /// The seed of model `k` derived from the audit seed (SplitMix64 of both).
    public static func modelSeed(_ seed: UInt64, _ k: Int) -> UInt64 {
        var z = seed &+ 0x9E37_79B9_7F4A_7C15 &* UInt64(k + 1)
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Trains (or loads from `cache`) one model per mask on the masked part of `pool`, then
    /// evaluates every model on the whole pool. Shows a progress bar on a terminal.
    public static func train(
        spec: ModelSpec, pool: Dataset, masks: [[Bool]], trainer: any ModelTrainer, seed: UInt64,
        cache: ShadowCache?, label: String = "shadow models",
        showProgress: Bool = true
    ) throws(AuditError) -> ShadowModels {
        let start = Date()
        let fingerprint = cache == nil ? "" : ShadowCache.fingerprint(pool)
        var bar = ProgressBar(label: label, total: masks.count, enabled: showProgress ? nil : false)
        var outputs = [ExampleOutputs]()
        var models = [Sequential]()
        var hits = 0
        for (k, mask) in masks.enumerated() {
            guard mask.count == pool.count else {
                throw .mismatch(
                    what: "shadow mask \(k)", detail: "\(mask.count) flags for \(pool.count) pool examples",
                    hint: "build masks with ShadowTraining.balancedMasks")
            }
            let modelSeed = modelSeed(seed, k)
            let key = cache.map { _ in
                ShadowCache.key(spec: spec, dataFingerprint: fingerprint, mask: mask, seed: modelSeed, trainer: trainer)
            }
            let model: Sequential
            if let cache, let key, let cached = cache.load(key: key, spec: spec) {
                model = cached
                hits += 1
            } else {
                let members = mask.indices.filter { mask[$0] }
                guard !members.isEmpty else {
                    throw .tooFewExamples(what: "training set of shadow model \(k)", have: 0, need: 1)
                }
                model = try trainer.train(spec: spec, data: pool.subset(members), seed: modelSeed)
                if let cache, let key {
                    try cache.store(
                        model, key: key,
                        metadata: [
                            "trainer": trainer.identity, "seed": "\(modelSeed)",
                            "model_spec": String(decoding: spec.jsonData(), as: UTF8.self),
                            "role": label,
                        ])
                }
            }
            let out = try ExampleOutputs.evaluate(model: model, data: pool)
            outputs.append(out)
            models.append(model)
            let inIdx = mask.indices.filter { mask[$0] }
            let outIdx = mask.indices.filter { !mask[$0] }
            bar.update(
                k + 1,
                detail:
                    "\(hits) cached, train acc \(Int(out.accuracy(inIdx) * 100))%, held-out acc \(Int(out.accuracy(outIdx) * 100))%"
            )
        }
        bar.finish(detail: "\(hits) of \(masks.count) from cache")
        return ShadowModels(
            masks: masks, outputs: outputs, models: models, cacheHits: hits, seconds: Date().timeIntervalSince(start))
    }
}

/// The cache-key encodings: strings NUL-terminated, integers as 8 little-endian bytes, floats by
/// their little-endian bit patterns (the keys of existing caches depend on exactly these bytes).
extension SHA256.Hasher {
    fileprivate func update(_ text: String) { update(Array(text.utf8) + [0]) }

    fileprivate func update(_ value: UInt64) {
        update((0..<8).map { UInt8(truncatingIfNeeded: value >> (8 * UInt64($0))) })
    }

    fileprivate func update(floats: UnsafeBufferPointer<Float>) {
        #if _endian(little)
        update(UnsafeRawBufferPointer(floats))
        #else
        update(floats.flatMap { v in (0..<4).map { UInt8(truncatingIfNeeded: v.bitPattern >> (8 * UInt32($0))) } })
        #endif
    }
}
