import Algebra
import Circuit
import Foundation

/// A split network's proved parts, as a JSON file in `circuits/`: the client's convolution (its
/// weights committed, its activations public), the cut, and the server's Dense head trained
/// with a proven step. The split protocol and `verisplit circuit` read the same file.
///
/// ```json
/// {"name": "demo", "input": {"channels": 1, "height": 28, "width": 28},
///  "client": {"out_channels": 4, "kernel": 5, "stride": 2},
///  "server": {"outputs": 10}, "fraction_bits": 8, "value_bits": 24, "batch": 1,
///  "loss": "softmax-cross-entropy", "learning_rate_shift": 4, "commitment": "poseidon-t17"}
/// ```
public struct CircuitSpec: Codable, Sendable, Equatable {
    public struct Input: Codable, Sendable, Equatable {
        public let channels: Int, height: Int, width: Int
        /// Each input value is an unsigned integer below 2^bits at scale 2^S (default S + 1: real
        /// values in [0, 2), e.g. pixels scaled to [0, 1]); the circuits range-check every value.
        public let bits: Int?
    }
    public struct Client: Codable, Sendable, Equatable {
        public let outChannels: Int, kernel: Int, stride: Int
        enum CodingKeys: String, CodingKey { case outChannels = "out_channels", kernel, stride }
    }
    public struct Server: Codable, Sendable, Equatable {
        public let outputs: Int
    }

    public let name: String
    public let input: Input
    public let client: Client
    public let server: Server
    public let fractionBits: Int
    public let valueBits: Int
    public let batch: Int
    public let loss: ServerStep.Loss
    /// The learning rate 2^-shift from step 0, until the first phase of `learningRateSchedule`.
    public let learningRateShift: Int
    /// A step decay: from each phase's `from_step` (the protocol's step index) on, the rate is
    /// 2^-shift. Batched specs only: their circuits take the rate as a public input.
    public let learningRateSchedule: [LearningRatePhase]?
    public let commitment: String
    /// The client's training set is committed as a Merkle tree of this depth (at most 2^depth
    /// samples); every forward proof opens one leaf. Default 16 (65,536 samples).
    public let datasetDepthField: Int?

    enum CodingKeys: String, CodingKey {
        case name, input, client, server, batch, loss, commitment
        case fractionBits = "fraction_bits", valueBits = "value_bits", learningRateShift = "learning_rate_shift"
        case learningRateSchedule = "learning_rate_schedule"
        case datasetDepthField = "dataset_depth"
    }

    /// One phase of a step-decay schedule: `{"from_step": 1000, "shift": 3}`.
    public struct LearningRatePhase: Codable, Sendable, Equatable {
        public let fromStep: UInt64
        public let shift: Int
        enum CodingKeys: String, CodingKey { case fromStep = "from_step", shift }
    }

    /// The learning-rate shift k of step `step`: 2^-k is the rate the step's SGD uses.
    public func learningRateShift(atStep step: UInt64) -> Int {
        (learningRateSchedule ?? []).last { $0.fromStep <= step }?.shift ?? learningRateShift
    }

    /// The largest shift of the schedule (the slowest rate): the batched circuits rescale the
    /// gradient sums by 2^(S + this + beta) after multiplying them by the public
    /// `learningRateMultiplier`, so one circuit (one key) serves every phase.
    public var slowestLearningRateShift: Int {
        (learningRateSchedule ?? []).map(\.shift).reduce(learningRateShift, max)
    }

    /// 2^(slowest - k): the public input of the batched server and update circuits at `step`.
    /// floor((x 2^a + 2^(s+a-1)) / 2^(s+a)) = floor((x + 2^(s-1)) / 2^s) exactly, so the scaled
    /// rescale equals the native rescale by the step's own shift s, bit for bit.
    public func learningRateMultiplier(atStep step: UInt64) -> Int64 {
        Int64(1) << Int64(slowestLearningRateShift - learningRateShift(atStep: step))
    }

    public var datasetDepth: Int { datasetDepthField ?? 16 }
    /// The deepest dataset tree a spec may ask for (2^24 samples): decoders bound Merkle paths by it.
    public static let maxDatasetDepth = 24
    public var inputBits: Int { input.bits ?? fractionBits + 1 }
    /// The range and packing of a sample's values (unsigned `inputBits`-bit integers).
    public var inputLayout: PackingLayout { PackingLayout(bits: inputBits, signed: false) }

    /// A real input value in fixed point, clamped to the largest `inputBits`-bit integer. With
    /// `input.bits` = S (8 for pixels at scale 2^8), a pixel of 1.0 (2^S) becomes 2^S - 1, so each
    /// pixel is one 8-bit lookup in the circuits instead of a lookup and a ninth bit; every path
    /// that feeds the model (plain, verified, evaluation) quantizes through here, so they agree.
    public func quantizeInput(_ x: Float) throws(FixedPointError) -> Int64 {
        min(try format.quantize(x), (Int64(1) << Int64(inputBits)) - 1)
    }
    public var inputCount: Int { input.channels * input.height * input.width }

    /// The proved parts of one training step: the client's forward pass, the server's step, and
    /// the client's own update from the gradient the server returned.
    public enum Part: String, Sendable, CaseIterable {
        case client, server
        case clientUpdate = "client-update"
    }

    /// Parses and validates a spec; every error names the field and the accepted range.
    public static func load(_ data: Data, file: String = "spec") throws(CircuitSpecError) -> CircuitSpec {
        let spec: CircuitSpec
        do { spec = try JSONDecoder().decode(CircuitSpec.self, from: data) } catch {
            throw .malformed(file: file, reason: "\(error)")
        }
        try spec.validate(file: file)
        return spec
    }

    func validate(file: String) throws(CircuitSpecError) {
        func check(_ ok: Bool, _ field: String, _ range: String) throws(CircuitSpecError) {
            if !ok { throw .invalidField(file: file, field: field, expected: range) }
        }
        try check((1...16).contains(input.channels), "input.channels", "1...16")
        try check((1...512).contains(input.height) && (1...512).contains(input.width), "input.height/width", "1...512")
        try check((1...64).contains(client.outChannels), "client.out_channels", "1...64")
        try check(
            client.kernel >= 1 && client.kernel <= min(input.height, input.width), "client.kernel",
            "1...min(height, width)")
        try check((1...8).contains(client.stride), "client.stride", "1...8")
        try check((2...1000).contains(server.outputs), "server.outputs", "2...1000")
        try check((1...64).contains(batch) && batch & (batch - 1) == 0, "batch", "a power of two in 1...64")
        try check((0...20).contains(learningRateShift), "learning_rate_shift", "0...20")
        if let schedule = learningRateSchedule {
            try check(
                batch > 1, "learning_rate_schedule", "a batch of 2 or more (the one-sample circuits fix the rate)")
            try check(!schedule.isEmpty && schedule.count <= 16, "learning_rate_schedule", "1...16 phases")
            try check(
                schedule.allSatisfy { (0...20).contains($0.shift) }, "learning_rate_schedule.shift", "0...20")
            try check(
                schedule.first.map { $0.fromStep >= 1 } ?? false
                    && zip(schedule, schedule.dropFirst()).allSatisfy { $0.fromStep < $1.fromStep },
                "learning_rate_schedule.from_step", "increasing step indices >= 1")
        }
        try check(commitment == "poseidon-t17", "commitment", "\"poseidon-t17\"")
        do { _ = try FixedPointFormat(fractionBits: fractionBits, valueBits: valueBits) } catch {
            throw .invalidField(file: file, field: "fraction_bits/value_bits", expected: error.description)
        }
        try check(
            (1...Self.maxDatasetDepth).contains(datasetDepth), "dataset_depth", "1...\(Self.maxDatasetDepth)")
        try check(
            inputBits >= 1 && inputBits < valueBits, "input.bits",
            "1...value_bits - 1 (inputs are activations of the format)")
        // The format must be provable for this architecture, not only sound in the field:
        // softmax evaluates 2^(S+8) - gap in a (B+1)-bit signed decomposition, so S + 10 <= B.
        if loss == .softmaxCrossEntropy {
            try check(
                fractionBits + 10 <= valueBits, "fraction_bits/value_bits",
                "S + 10 <= B for the softmax loss (its exponential works at scale 2^(S+8) inside B + 1 bits)")
        }
        // Native execution is exact Int64 arithmetic: the longest sum of B-bit products (the
        // convolution window, the head's rows and columns, the kernel gradient over all output
        // positions) must stay below 2^62, as must the softmax's e * 2^S.
        let positions =
            ((input.height - client.kernel) / client.stride + 1) * ((input.width - client.kernel) / client.stride + 1)
        let longest = max(
            input.channels * client.kernel * client.kernel + 1, cutWidth + 1, server.outputs + 1, positions)
        let sumBits = 2 * (valueBits - 1) + (Int.bitWidth - longest.leadingZeroBitCount)
        try check(
            sumBits <= 62, "value_bits",
            "small enough that sums of \(longest) products of \(valueBits)-bit values fit in 62 bits (needs \(sumBits))"
        )
        // A schedule's circuits multiply the batch's gradient sums (batch * positions products)
        // by up to 2^(slowest - fastest) before the rescale, natively in Int64 as well.
        if let schedule = learningRateSchedule {
            let spread = slowestLearningRateShift - schedule.map(\.shift).reduce(learningRateShift, min)
            let terms = batch * max(positions, server.outputs)
            let scaledBits = 2 * (valueBits - 1) + (Int.bitWidth - terms.leadingZeroBitCount) + spread
            try check(
                scaledBits <= 62, "learning_rate_schedule",
                "shifts close enough that the scaled gradient sums fit in 62 bits (needs \(scaledBits))")
        }
        // The SGD step rescales a product of two B-bit values by 2^(S+k): that remainder and the
        // B-bit quotient must stay below the field's safe width.
        try check(
            valueBits + fractionBits + slowestLearningRateShift + batchShift <= 252, "learning_rate_shift",
            "at most 252 - B - S so the SGD rescale is sound in Fr")
        try checkSize(file: file)
    }

    public var format: FixedPointFormat {
        // Validated in `load`.
        (try? FixedPointFormat(fractionBits: fractionBits, valueBits: valueBits)) ?? FixedPointFormat.default
    }

    public var cutWidth: Int {
        let h = (input.height - client.kernel) / client.stride + 1
        let w = (input.width - client.kernel) / client.stride + 1
        return client.outChannels * h * w
    }

    /// Deterministic layers for a spec (seeded, Kaiming-scale), so `circuit compile` and tests
    /// produce the same statement on every machine. Training replaces them.
    public func sampleLayers(seed: UInt64) throws -> (client: QuantizedConv2d, server: QuantizedDense) {
        var state = seed &+ 0x9e37_79b9_7f4a_7c15
        func next(_ bound: Double) -> Int64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let unit = Double(state >> 11) / Double(UInt64(1) << 53) * 2 - 1
            return Int64((unit * bound * format.scale).rounded())
        }
        let fanIn = Double(input.channels * client.kernel * client.kernel)
        let kernel = (0..<(client.outChannels * input.channels * client.kernel * client.kernel)).map { _ in
            next(2 / fanIn.squareRoot())
        }
        let conv = try QuantizedConv2d(
            inChannels: input.channels, outChannels: client.outChannels, height: input.height,
            width: input.width, kernelSize: client.kernel, stride: client.stride,
            weights: kernel, bias: [Int64](repeating: 0, count: client.outChannels),
            relu: true, format: format)
        let head = (0..<(cutWidth * server.outputs)).map { _ in next(1 / Double(cutWidth).squareRoot()) }
        let dense = try QuantizedDense(
            inputs: cutWidth, outputs: server.outputs, weights: head,
            bias: [Int64](repeating: 0, count: server.outputs), relu: false, format: format)
        return (conv, dense)
    }

    /// A one-sample committed dataset for `x` (with a fresh secret), so `build` and key setup
    /// produce the same statement shape as a session's (which commits its whole training set).
    public func singleSampleDataset(input x: [Int64], label: Int) throws -> CommittedDataset {
        try CommittedDataset(
            values: [x], labels: [label], classes: server.outputs, layout: inputLayout, depth: datasetDepth,
            secret: SecureRandom.bytes(32))
    }

    /// Builds one part's circuit and witness for one sample (input already in fixed point), with
    /// fresh salts: the statement `verisplit circuit` compiles and benchmarks, and key setup uses.
    public func build(
        _ part: Part, input x: [Int64], label: Int, layers: (client: QuantizedConv2d, server: QuantizedDense),
        session: Fr, step: UInt64
    ) throws -> ConstraintSystem<Fr> {
        try build(
            part, dataset: try singleSampleDataset(input: x, label: label), index: 0, layers: layers, session: session,
            step: step)
    }

    /// Builds one part's circuit and witness for the sample at `index` of a committed dataset
    /// (a session commits its dataset once; the per-step cost is this), with fresh salts.
    public func build(
        _ part: Part, dataset: CommittedDataset, index: Int, layers: (client: QuantizedConv2d, server: QuantizedDense),
        session: Fr, step: UInt64, witnessOnly: Bool = false
    ) throws -> ConstraintSystem<Fr> {
        let sample = try dataset.opening(index)
        let x = sample.values, label = sample.label
        switch part {
        case .client:
            return try clientForwardCircuit(
                layers.client, sample: sample, root: dataset.root, session: session, step: step,
                salt: .random(), witnessOnly: witnessOnly)
        case .server:
            return try serverStepCircuit(
                layers.server, activations: try layers.client.forward(x), label: label,
                session: session, step: step, saltBefore: .random(), saltAfter: .random(),
                witnessOnly: witnessOnly
            ).circuit
        case .clientUpdate:
            let server = try ServerStep(layer: layers.server, learningRateShift: learningRateShift, loss: loss)
                .run(activations: try layers.client.forward(x), label: label)
            return try clientUpdateCircuit(
                layers.client, sample: sample, gradient: server.inputGradient, session: session,
                step: step, saltBefore: .random(), saltAfter: .random(), witnessOnly: witnessOnly
            ).circuit
        }
    }

    /// The client's forward proof. Public outputs: the sample's leaf hash, the commitment to K and
    /// b under `salt`, the activations A; public inputs: session, step, the sample's index and
    /// label, the dataset root. Private inputs: the sample (range-checked), its salt, the Merkle
    /// siblings, K and b (range-checked at the opening) and the salt.
    ///
    /// Soundness: A is the committed convolution of the sample at `index` of the dataset whose
    /// root the client announced; a prover who wants other activations needs another leaf at that
    /// index (a Poseidon collision) or values outside the range (refused by the range checks).
    /// `sampleValues` replaces the values in the witness (tests and the forged-input adversary).
    public func clientForwardCircuit(
        _ conv: QuantizedConv2d, sample: SampleOpening, root: Fr, session: Fr, step: UInt64,
        salt: Fr, sampleValues: [Fr]? = nil, witnessOnly: Bool = false
    ) throws -> ConstraintSystem<Fr> {
        let cs = ConstraintSystem<Fr>(witnessOnly: witnessOnly)
        _ = cs.allocatePublicInput("session", value: session)
        _ = cs.allocatePublicInput("step", value: Fr(step))
        let index = cs.allocatePublicInput("index", value: Fr(UInt64(sample.index)))
        let label = cs.allocatePublicInput("label", value: Fr(UInt64(sample.label)))
        let rootVariable = cs.allocatePublicInput("root", value: root)
        let leaf = cs.allocatePublic("sample", value: sample.leaf)
        let xs = try cs.committedSample(
            values: sampleValues ?? sample.values.map { Fr($0) }, label: LinearCombination(label),
            salt: sample.salt, leaf: LinearCombination(leaf), layout: inputLayout)
        try cs.assertMerkleMembership(
            leaf: LinearCombination(leaf), index: LinearCombination(index), siblings: sample.siblings,
            root: LinearCombination(rootVariable), "dataset")
        _ = try conv.synthesizeCommitted(into: cs, inputs: xs, salt: salt)
        return cs
    }

    /// The server's step. Public outputs: dL/dA, the commitments before and after; public
    /// inputs: session, step, A, the one-hot label y. Every circuit builder takes `witnessOnly`
    /// for a prover, which evaluates its key's R1CS and needs only the witness
    /// (`ConstraintSystem.recordsConstraints`).
    public func serverStepCircuit(
        _ head: QuantizedDense, activations: [Int64], label: Int, session: Fr, step: UInt64,
        saltBefore: Fr, saltAfter: Fr, witnessOnly: Bool = false
    ) throws -> (circuit: ConstraintSystem<Fr>, result: ServerStep.Result) {
        let cs = ConstraintSystem<Fr>(witnessOnly: witnessOnly)
        let result = try ServerStep(layer: head, learningRateShift: learningRateShift, loss: loss).synthesize(
            into: cs, activations: activations, label: label, session: session, step: step,
            saltBefore: saltBefore, saltAfter: saltAfter)
        return (cs, result)
    }

    /// The client's own update. Public outputs: the sample's leaf hash, A, the commitments
    /// before and after; public inputs: session, step, the label, G (see `ConvClientUpdate`).
    public func clientUpdateCircuit(
        _ conv: QuantizedConv2d, sample: SampleOpening, gradient: [Int64], session: Fr, step: UInt64,
        saltBefore: Fr, saltAfter: Fr, witnessOnly: Bool = false
    ) throws -> (circuit: ConstraintSystem<Fr>, updated: QuantizedConv2d) {
        let cs = ConstraintSystem<Fr>(witnessOnly: witnessOnly)
        let updated = try ConvClientUpdate(layer: conv, learningRateShift: learningRateShift).synthesize(
            into: cs, sample: sample, layout: inputLayout, outputGradient: gradient, session: session, step: step,
            saltBefore: saltBefore, saltAfter: saltAfter)
        return (cs, updated)
    }
}

/// The public inputs of the three proofs of a step, in the circuits' wire order (public outputs
/// in allocation order, then public inputs), from the values a verifier holds. A test checks each
/// against the built circuit; the parties and the offline verifier rebuild statements with these,
/// never from the proof's sender.
public enum StepStatement {
    public static func forward(
        session: Fr, step: UInt64, index: Int, label: Int, root: Fr, sample: Fr, weights: Fr,
        activations: [Int64]
    ) -> [Fr] {
        [sample, weights] + activations.map { Fr($0) } + [
            session, Fr(step), Fr(UInt64(index)), Fr(UInt64(label)), root,
        ]
    }

    public static func server(
        session: Fr, step: UInt64, activations: [Int64], label: Int, classes: Int, format: FixedPointFormat,
        gradient: [Int64], before: Fr, after: Fr
    ) -> [Fr] {
        let one = Int64(1) << Int64(format.fractionBits)
        return gradient.map { Fr($0) } + [before, after] + [session, Fr(step)] + activations.map { Fr($0) }
            + (0..<classes).map { Fr($0 == label ? one : 0) }
    }

    public static func update(
        session: Fr, step: UInt64, label: Int, sample: Fr, activations: [Int64], gradient: [Int64],
        before: Fr, after: Fr
    ) -> [Fr] {
        [sample] + activations.map { Fr($0) } + [before, after] + [session, Fr(step), Fr(UInt64(label))]
            + gradient.map { Fr($0) }
    }
}

extension FixedPointFormat {
    /// S = 8, B = 24: the format the specs and benchmarks default to.
    public static var `default`: FixedPointFormat {
        // 8 + 24 <= 252 and both in range: cannot fail.
        (try? FixedPointFormat(fractionBits: 8, valueBits: 24))!
    }
}

public enum CircuitSpecError: Error, Equatable, CustomStringConvertible {
    case malformed(file: String, reason: String)
    case invalidField(file: String, field: String, expected: String)

    public var description: String {
        switch self {
        case .malformed(let f, let r): return "\(f): not a valid circuit spec (\(r.prefix(200)))"
        case .invalidField(let f, let k, let e): return "\(f): field '\(k)' must be \(e)"
        }
    }
}

/// Constraint counts of a built circuit by kind, from the constraints' namespaced names.
public struct ConstraintBreakdown: Sendable, Equatable {
    public var matmul = 0, rescale = 0, relu = 0, loss = 0, commitment = 0, range = 0, dataset = 0, other = 0
    public var total: Int { matmul + rescale + relu + loss + commitment + range + dataset + other }

    public init(_ cs: ConstraintSystem<Fr>) {
        for constraint in cs.constraints {
            let name = cs.constraintNames[constraint.nameIndex]
            if name.hasPrefix("dataset/") || name.hasPrefix("sample.leaf") {
                dataset += 1
            } else if name.contains(".range/") || name.contains("Range/") {
                range += 1
            } else if name.contains("open") || name.contains("commit") || name.contains("poseidon")
                || name.contains("sponge")
            {
                commitment += 1
            } else if name.hasPrefix("softmax") {
                loss += 1
            } else if name.contains("remainder") || name.contains("quotient") {
                rescale += 1
            } else if name.contains("relu") || name.contains("/y") || name.hasPrefix("A") || name.contains(".y") {
                relu += 1
            } else if name.contains("w") || name.contains("W") || name.contains("ga") || name.contains("delta")
                || name.contains("dK")
            {
                matmul += 1
            } else {
                other += 1
            }
        }
    }
}
