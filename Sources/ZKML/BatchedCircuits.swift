import Algebra
import Circuit
import Commitment
import Foundation

/// The three proofs of a batched step (`CircuitSpec.batch` samples), built with the proof's
/// commitment to witness wires: every hint is committed before the one challenge, and after it
/// Freivalds checks verify the matrix products and one lookup argument verifies every range
/// check. Each circuit computes its native result first, so the witness is the native execution
/// (bit-identical by construction; a test compares them).
///
/// Layout of each: public outputs, public inputs, then the challenge (the last public wire, which
/// the verifier derives from the commitment and the statement: `BatchedStatement` lists the rest).
extension CircuitSpec {
    /// The power of two the batch divides by (the spec validates `batch`).
    public var batchShift: Int { BatchedStep.shift(batch: batch) }

    /// Whether the forward proof checks the convolution's product with the gathered Freivalds
    /// form (one product per input value per g samples) rather than on the im2col matrix with
    /// its columns packed (`freivaldsPacked`: one product per g window entries); g = 6 at B = 24,
    /// S = 8. Whichever costs fewer constraints: overlapping windows gather.
    public func gathersConvolution(_ conv: QuantizedConv2d, batch: Int) -> Bool {
        let positions = conv.outHeight * conv.outWidth, errorBits = convolutionErrorBits(conv)
        let modulusBits = Fr.modulusBitWidth ?? 254
        let gathered = ConstraintSystem<Fr>.gatheredFreivaldsCost(
            m: conv.outChannels, n: conv.receptiveField, positions: positions, blocks: batch,
            length: conv.inChannels * conv.height * conv.width,
            perGroup: ConstraintSystem<Fr>.packedColumns(errorBits: errorBits, modulusBits: modulusBits))
        return gathered
            < ConstraintSystem<Fr>.packedFreivaldsCost(
                m: conv.outChannels, n: conv.receptiveField, k: batch * positions, errorBits: errorBits,
                modulusBits: modulusBits)
    }

    /// A bound on the forward Freivalds check's error entries, (K X - P)_(o, column), from the
    /// range checks the forward circuit makes: |K| <= 2^(B-1) (committed parameters), X in
    /// [0, 2^bits) (the samples' lookups), and each product hint P = q 2^S + r - b 2^S pinned by
    /// its rescale (q and b signed B-bit, r below 2^S), so |P| <= 2^(B+S) + 2^S.
    public func convolutionErrorBits(_ conv: QuantizedConv2d) -> Int {
        let b = UInt64(format.valueBits), s = UInt64(format.fractionBits)
        return ConstraintSystem<Fr>.freivaldsErrorBits(
            maxA: 1 << (b - 1), maxB: (1 << UInt64(inputLayout.bits)) - 1, inner: conv.receptiveField,
            maxC: (1 << (b + s)) + (1 << s))
    }

    /// Whether the protocol proves this spec's steps with the batched circuits (a batch of 2 or
    /// more: commitments to witness wires, lookups, Freivalds) or with the one-sample circuits
    /// (batch 1: plain Groth16, keys compatible with snarkjs and the Solidity export).
    public var usesBatchedCircuits: Bool { batch > 1 }

    /// The client's forward proof for a batch. Outputs: the samples' leaf hashes, the commitment
    /// to K and b, the activations; inputs: session, step, the samples' labels. Proves, for each
    /// sample, that its range-checked values and label hash to its public leaf, and that its
    /// activations are relu(rescale(K x + b 2^S)) for the committed, range-checked K and b.
    ///
    /// The leaves' Merkle openings are not in the circuit: leaf and index are public, so every
    /// verifier opens them under the announced root natively (`MerkleOpeningVerifier`, the
    /// siblings travel with the message) with the same soundness, Poseidon's collision
    /// resistance, and without the 16 in-circuit Poseidon(2) hashes (3,890 constraints) per
    /// sample. The one-sample circuits keep the opening inside, so a proof checked alone (the
    /// Solidity verifier) still covers membership.
    /// Cost per sample: the lookups of its values, its leaf sponge, its share of the Freivalds
    /// check (`convolutionFreivalds`) and 6 per output; per batch: the weights' opening and the
    /// lookup table.
    public func batchedForwardCircuit(
        _ conv: QuantizedConv2d, samples: [SampleOpening], session: Fr, step: UInt64,
        salt: Fr, oracle: (@Sendable ([Fr], [Fr]) -> Fr)? = nil, witnessOnly: Bool = false
    ) throws -> ConstraintSystem<Fr> {
        let cs = ConstraintSystem<Fr>(witnessOnly: witnessOnly)
        cs.challengeOracle = oracle
        let context = LookupContext(format: format)
        let activations = try BatchedStep.forward(conv, inputs: samples.map(\.values))
        let leaves = samples.enumerated().map { s, sample in cs.allocatePublic("leaf\(s)", value: sample.leaf) }
        let parameters = conv.weights + conv.bias
        let weights = cs.allocatePublic(
            "weights", value: try ParameterCommitment.commit(parameters, format: format, salt: salt))
        let outputs = activations.enumerated().map { s, a in
            a.enumerated().map { p, v in cs.allocatePublic("A\(s).\(p)", value: Fr(v)) }
        }
        _ = cs.allocatePublicInput("session", value: session)
        _ = cs.allocatePublicInput("step", value: Fr(step))
        let labels = samples.enumerated().map { s, sample in
            cs.allocatePublicInput("label\(s)", value: Fr(UInt64(sample.label)))
        }

        let xs = try cs.batchedSamples(
            samples, labels: labels.map { LinearCombination($0) }, leaves: leaves, layout: inputLayout, context)
        let params = try cs.committedParameters(parameters, salt: salt, commitment: weights, context, "conv")
        let field = conv.receptiveField, positions = conv.outHeight * conv.outWidth
        let columns = samples.count * positions
        var twoToS = Fr.one
        for _ in 0..<format.fractionBits { twoToS = twoToS.doubled() }
        // The products K x as committed hints, checked by Freivalds after the challenge.
        var products: [LinearCombination<Fr>] = []
        let accumulators = try samples.map { sample throws(FixedPointError) in try conv.accumulators(sample.values) }
        for o in 0..<conv.outChannels {
            for s in 0..<samples.count {
                for p in 0..<positions {
                    let index = o * positions + p
                    let product = accumulators[s][index] - (conv.bias[o] << Int64(format.fractionBits))
                    let hint = cs.allocateCommitted("conv.product\(o).\(s).\(p)", value: Fr(product))
                    products.append(LinearCombination(hint))
                    // acc = K x + b 2^S, the bias's parameter after the kernel's.
                    let full = LinearCombination(hint) + params[conv.outChannels * field + o].value * twoToS
                    let q = cs.lookupRescale(full, shift: format.fractionBits, context, "conv.rescale\(o).\(s).\(p)").q
                    cs.enforce(
                        LinearCombination(q.nonNegative), q.value, LinearCombination(outputs[s][index]),
                        "conv.relu\(o).\(s).\(p)")
                }
            }
        }
        context.commit(in: cs)
        let challenge = cs.drawChallenge()
        let powers = cs.challengePowers(challenge, count: max(conv.outChannels, 1))
        let kernel = LCMatrix(
            rows: conv.outChannels, columns: field, entries: (0..<(conv.outChannels * field)).map { params[$0].value })
        let productMatrix = LCMatrix(rows: conv.outChannels, columns: columns, entries: products)
        // gather[t][p]: the input value the window at position p reads at kernel offset t.
        var gather = [[Int]](repeating: [Int](repeating: 0, count: positions), count: field)
        for i in 0..<conv.outHeight {
            for j in 0..<conv.outWidth {
                for (t, index) in conv.window(row: i, column: j).enumerated() {
                    gather[t][i * conv.outWidth + j] = index
                }
            }
        }
        if gathersConvolution(conv, batch: samples.count) {
            cs.freivaldsGathered(
                kernel, blocks: xs, gather: gather, equals: productMatrix, errorBits: convolutionErrorBits(conv),
                challenge: challenge, rhoPowers: powers, "conv.freivalds")
        } else {
            // The im2col matrix with its columns packed (exact under the range checks above).
            var patches = [LinearCombination<Fr>](repeating: LinearCombination(), count: field * columns)
            for (s, x) in xs.enumerated() {
                for t in 0..<field {
                    for p in 0..<positions { patches[t * columns + s * positions + p] = x[gather[t][p]] }
                }
            }
            cs.freivaldsPacked(
                kernel, LCMatrix(rows: field, columns: columns, entries: patches), equals: productMatrix,
                errorBits: convolutionErrorBits(conv), challenge: challenge, rhoPowers: powers, "conv.freivalds")
        }
        context.finish(in: cs, challenge: challenge)
        return cs
    }

    /// What a `CommitmentLink` between a step's forward proof and its linked update
    /// (`batchedUpdateCircuit(..., linked: true)`) pins: every committed sample value of the
    /// update (`sample<s>.x<j>`) to the weighted sum of the forward's range-checked limbs of the
    /// same value (`sample<s>.x<j>/limb<k>` with weight 2^(8k), `/bit<b>` with 2^b), as (forward
    /// wire, update wire, weight). Throws when an update value has no limbs (a free value) or the
    /// circuits are not a forward and a linked update of one spec.
    public func updateLinkPairs(
        forward: ConstraintSystem<Fr>, update: ConstraintSystem<Fr>
    ) throws(SampleMismatch) -> [(left: Int, right: Int, coefficient: Fr)] {
        guard let forwardWires = forward.commitmentInfo?.wires, let updateWires = update.commitmentInfo?.wires else {
            throw SampleMismatch(description: "the forward and the update must both commit to witness wires")
        }
        let limbBits = LookupContext(format: format).table.limbBits
        let forwardNames = forward.wireNames(), updateNames = update.wireNames()
        var values: [String: Int] = [:]
        let sampleWires = updateWires.filter { updateNames[$0].hasPrefix("sample") }
        for wire in sampleWires { values[updateNames[wire]] = wire }
        guard values.count == sampleWires.count else {
            throw SampleMismatch(description: "two of the update's sample wires share a name")
        }
        var pairs: [(left: Int, right: Int, coefficient: Fr)] = []
        var covered = Set<String>()
        for wire in forwardWires where forwardNames[wire].hasPrefix("sample") {
            let name = forwardNames[wire]
            guard let slash = name.lastIndex(of: "/") else {
                throw SampleMismatch(description: "the forward's sample wire \(name) is not a limb")
            }
            let value = String(name[..<slash]), part = name[name.index(after: slash)...]
            let shift: Int
            if part.hasPrefix("limb"), let k = Int(part.dropFirst(4)) {
                shift = limbBits * k
            } else if part.hasPrefix("bit"), let b = Int(part.dropFirst(3)) {
                shift = b
            } else {
                throw SampleMismatch(description: "the forward's sample wire \(name) is not a limb")
            }
            // A value no window reads is not in the update (nor in the link).
            guard let target = values[value] else { continue }
            var weight = Fr.one
            for _ in 0..<shift { weight = weight.doubled() }
            pairs.append((left: wire, right: target, coefficient: weight))
            covered.insert(value)
        }
        guard !pairs.isEmpty, covered.count == values.count else {
            throw SampleMismatch(
                description:
                    "the update commits \(values.count) sample values, the forward's limbs cover \(covered.count)")
        }
        return pairs
    }

    /// The server's step on a batch. Outputs: dL/dA per sample (not divided by the batch), the
    /// commitments to (W, b) before and after; inputs: session, step, the activations, the labels.
    /// Proves z = rescale(W a + b 2^S), g = softmax(z) - onehot(label) (or z - onehot for MSE),
    /// dA = rescale(W^T g) per sample, and W' = W - round(sum_s g_s a_s^T / 2^(S+k+beta)),
    /// b' = b - round(sum_s g_s / 2^(k+beta)) with W, b, W', b' range-checked at the openings.
    /// The three products W A, W^T G and G A^T are committed hints checked by Freivalds.
    public func batchedServerCircuit(
        _ head: QuantizedDense, activations: [[Int64]], labels: [Int], session: Fr, step: UInt64,
        saltBefore: Fr, saltAfter: Fr, oracle: (@Sendable ([Fr], [Fr]) -> Fr)? = nil, witnessOnly: Bool = false
    ) throws
        -> (circuit: ConstraintSystem<Fr>, result: BatchedStep.ServerResult)
    {
        let result = try BatchedStep.server(
            head, activations: activations, labels: labels, learningRateShift: learningRateShift(atStep: step),
            loss: loss)
        let cs = ConstraintSystem<Fr>(witnessOnly: witnessOnly)
        cs.challengeOracle = oracle
        let context = LookupContext(format: format)
        let f = format
        let batch = activations.count, n = head.inputs, m = head.outputs
        let beta = BatchedStep.shift(batch: batch)
        let gradientVariables = result.inputGradients.enumerated().map { s, g in
            g.enumerated().map { j, v in cs.allocatePublic("dA\(s).\(j)", value: Fr(v)) }
        }
        let before = cs.allocatePublic(
            "commitmentBefore",
            value: try ParameterCommitment.commit(head.weights + head.bias, format: f, salt: saltBefore))
        let after = cs.allocatePublic(
            "commitmentAfter",
            value: try ParameterCommitment.commit(
                result.updated.weights + result.updated.bias, format: f, salt: saltAfter))
        _ = cs.allocatePublicInput("session", value: session)
        _ = cs.allocatePublicInput("step", value: Fr(step))
        let rate = cs.allocatePublicInput("learningRate", value: Fr(learningRateMultiplier(atStep: step)))
        let a = activations.enumerated().map { s, row in
            row.enumerated().map { j, v in LinearCombination<Fr>(cs.allocatePublicInput("a\(s).\(j)", value: Fr(v))) }
        }
        let labelVariables = labels.enumerated().map { s, label in
            cs.allocatePublicInput("label\(s)", value: Fr(UInt64(label)))
        }

        let params = try cs.committedParameters(
            head.weights + head.bias, salt: saltBefore, commitment: before, context, "head")
        var twoToS = Fr.one
        for _ in 0..<f.fractionBits { twoToS = twoToS.doubled() }
        // Forward and loss gradient, per sample.
        var forwardProducts: [LinearCombination<Fr>] = [LinearCombination<Fr>](
            repeating: LinearCombination(), count: m * batch)
        var g: [[LinearCombination<Fr>]] = []
        for s in 0..<batch {
            var z: [LinearCombination<Fr>] = []
            for i in 0..<m {
                var product: Int64 = 0
                for j in 0..<n { product += head.weights[i * n + j] * activations[s][j] }
                let hint = cs.allocateCommitted("z.product\(i).\(s)", value: Fr(product))
                forwardProducts[i * batch + s] = LinearCombination(hint)
                let acc = LinearCombination(hint) + params[m * n + i].value * twoToS
                z.append(cs.lookupRescale(acc, shift: f.fractionBits, context, "z\(i).\(s)").q.value)
            }
            let prediction = loss == .mse ? z : cs.lookupSoftmax(z, context, "softmax\(s)")
            g.append(
                (0..<m).map { i in
                    let isLabel = cs.isEqual(
                        LinearCombination(labelVariables[s]), LinearCombination(constant: Fr(UInt64(i))),
                        "onehot\(s).\(i)")
                    return prediction[i] - LinearCombination(isLabel, twoToS)
                })
        }
        // dA = rescale(W^T g) per sample.
        var backwardProducts: [LinearCombination<Fr>] = [LinearCombination<Fr>](
            repeating: LinearCombination(), count: n * batch)
        for s in 0..<batch {
            for j in 0..<n {
                var product: Int64 = 0
                for i in 0..<m { product += head.weights[i * n + j] * result.outputGradients[s][i] }
                let hint = cs.allocateCommitted("dA.product\(j).\(s)", value: Fr(product))
                backwardProducts[j * batch + s] = LinearCombination(hint)
                let q = cs.lookupRescale(LinearCombination(hint), shift: f.fractionBits, context, "dA\(j).\(s)").q
                cs.enforceEqual(q.value, LinearCombination(gradientVariables[s][j]), "dA\(j).\(s).public")
            }
        }
        // SGD on the batch sums.
        var weightSums: [LinearCombination<Fr>] = []
        var updated: [SignedLimbs] = []
        for i in 0..<m {
            for j in 0..<n {
                var sum: Int64 = 0
                for s in 0..<batch { sum += result.outputGradients[s][i] * activations[s][j] }
                let hint = cs.allocateCommitted("dW.sum\(i).\(j)", value: Fr(sum))
                weightSums.append(LinearCombination(hint))
                let delta = cs.roundedSGDStep(
                    LinearCombination(hint), rate: rate, shift: f.fractionBits + slowestLearningRateShift + beta,
                    context, "dW\(i).\(j)")
                updated.append(
                    cs.lookupSignedRange(params[i * n + j].value - delta, bits: f.valueBits, context, "W'\(i).\(j)"))
            }
        }
        for i in 0..<m {
            let biasSum = (0..<batch).reduce(LinearCombination<Fr>()) { $0 + g[$1][i] }
            let step = cs.roundedSGDStep(
                biasSum, rate: rate, shift: slowestLearningRateShift + beta, context, "db\(i)")
            updated.append(cs.lookupSignedRange(params[m * n + i].value - step, bits: f.valueBits, context, "b'\(i)"))
        }
        try cs.openPacked(updated, salt: saltAfter, commitment: after, context, "after")

        context.commit(in: cs)
        let challenge = cs.drawChallenge()
        let powers = cs.challengePowers(challenge, count: max(m, n))
        let w = LCMatrix(rows: m, columns: n, entries: (0..<(m * n)).map { params[$0].value })
        let wT = LCMatrix(rows: n, columns: m, entries: (0..<(n * m)).map { params[($0 % m) * n + $0 / m].value })
        let aMatrix = LCMatrix(rows: n, columns: batch, entries: (0..<(n * batch)).map { a[$0 % batch][$0 / batch] })
        let aTransposed = LCMatrix(rows: batch, columns: n, entries: (0..<(batch * n)).map { a[$0 / n][$0 % n] })
        let gMatrix = LCMatrix(rows: m, columns: batch, entries: (0..<(m * batch)).map { g[$0 % batch][$0 / batch] })
        cs.freivalds(
            w, aMatrix, equals: LCMatrix(rows: m, columns: batch, entries: forwardProducts), challenge: challenge,
            rhoPowers: powers, "forward.freivalds")
        cs.freivalds(
            wT, gMatrix, equals: LCMatrix(rows: n, columns: batch, entries: backwardProducts), challenge: challenge,
            rhoPowers: powers, "backward.freivalds")
        cs.freivalds(
            gMatrix, aTransposed, equals: LCMatrix(rows: m, columns: n, entries: weightSums), challenge: challenge,
            rhoPowers: powers, "gradient.freivalds")
        context.finish(in: cs, challenge: challenge)
        return (cs, result)
    }

    /// The client's update on a batch. Outputs: the samples' leaf hashes, the commitments to
    /// (K, b) before and after; inputs: session, step, the labels, the masked gradients
    /// delta_s = [A_s > 0] dA_s (which the server derives from what it received and sent).
    /// Proves the samples are the committed leaves (range-checked values) and
    /// K' = K - round(sum_s sum_p delta_s(p) x_s(window_p) / 2^(S+k+beta)),
    /// b' = b - round(sum_s sum_p delta_s(p) / 2^(k+beta)), K, b, K', b' range-checked; the kernel
    /// gradient is a committed hint checked by Freivalds against delta and the im2col of x.
    ///
    /// `linked`: the samples are committed wires named as in the forward proof, neither opened
    /// nor range-checked here, and the statement has no leaves or labels. Sound only beside a
    /// `CommitmentLink` proof that pins them to the forward proof's samples of the same step
    /// (`updateLinkPairs`), which range-checked them and opened the leaves; that removes the
    /// second opening of the batch (a Poseidon sponge and a lookup per value, per sample).
    public func batchedUpdateCircuit(
        _ conv: QuantizedConv2d, samples: [SampleOpening], masked delta: [[Int64]], session: Fr,
        step: UInt64, saltBefore: Fr, saltAfter: Fr, linked: Bool = false,
        oracle: (@Sendable ([Fr], [Fr]) -> Fr)? = nil, witnessOnly: Bool = false
    ) throws
        -> (circuit: ConstraintSystem<Fr>, updated: QuantizedConv2d)
    {
        let updatedLayer = try BatchedStep.clientUpdate(
            conv, inputs: samples.map(\.values), masked: delta, learningRateShift: learningRateShift(atStep: step))
        let cs = ConstraintSystem<Fr>(witnessOnly: witnessOnly)
        cs.challengeOracle = oracle
        let context = LookupContext(format: format)
        let f = format
        let batch = samples.count, beta = BatchedStep.shift(batch: batch)
        let leaves =
            linked ? [] : samples.enumerated().map { s, sample in cs.allocatePublic("leaf\(s)", value: sample.leaf) }
        let parameters = conv.weights + conv.bias
        let before = cs.allocatePublic(
            "commitmentBefore", value: try ParameterCommitment.commit(parameters, format: f, salt: saltBefore))
        let after = cs.allocatePublic(
            "commitmentAfter",
            value: try ParameterCommitment.commit(updatedLayer.weights + updatedLayer.bias, format: f, salt: saltAfter))
        _ = cs.allocatePublicInput("session", value: session)
        _ = cs.allocatePublicInput("step", value: Fr(step))
        let rate = cs.allocatePublicInput("learningRate", value: Fr(learningRateMultiplier(atStep: step)))
        let labels =
            linked
            ? []
            : samples.enumerated().map { s, sample in
                cs.allocatePublicInput("label\(s)", value: Fr(UInt64(sample.label)))
            }
        let deltaVariables = delta.enumerated().map { s, row in
            row.enumerated().map { p, v in LinearCombination<Fr>(cs.allocatePublicInput("delta\(s).\(p)", value: Fr(v)))
            }
        }

        let xs =
            linked
            ? cs.linkedSamples(samples, used: conv.readInputs)
            : try cs.batchedSamples(
                samples, labels: labels.map { LinearCombination($0) }, leaves: leaves, layout: inputLayout, context)
        let params = try cs.committedParameters(parameters, salt: saltBefore, commitment: before, context, "conv")
        let field = conv.receptiveField, positions = conv.outHeight * conv.outWidth, channels = conv.outChannels
        let columns = batch * positions
        var sums: [LinearCombination<Fr>] = []
        var updated: [SignedLimbs] = []
        for o in 0..<channels {
            for t in 0..<field {
                var sum: Int64 = 0
                for (s, sample) in samples.enumerated() {
                    for i in 0..<conv.outHeight {
                        for j in 0..<conv.outWidth {
                            let d = delta[s][o * positions + i * conv.outWidth + j]
                            if d != 0 { sum += d * sample.values[conv.window(row: i, column: j)[t]] }
                        }
                    }
                }
                let hint = cs.allocateCommitted("dK.sum\(o).\(t)", value: Fr(sum))
                sums.append(LinearCombination(hint))
                let step = cs.roundedSGDStep(
                    LinearCombination(hint), rate: rate, shift: f.fractionBits + slowestLearningRateShift + beta,
                    context, "dK\(o).\(t)")
                updated.append(
                    cs.lookupSignedRange(params[o * field + t].value - step, bits: f.valueBits, context, "K'\(o).\(t)"))
            }
        }
        for o in 0..<channels {
            var biasSum = LinearCombination<Fr>()
            for s in 0..<batch { for p in 0..<positions { biasSum += deltaVariables[s][o * positions + p] } }
            let step = cs.roundedSGDStep(
                biasSum, rate: rate, shift: slowestLearningRateShift + beta, context, "db\(o)")
            updated.append(
                cs.lookupSignedRange(params[channels * field + o].value - step, bits: f.valueBits, context, "b'\(o)"))
        }
        try cs.openPacked(updated, salt: saltAfter, commitment: after, context, "after")
        // delta (channels x positions) times the transposed im2col (positions x field).
        var patchesT = [LinearCombination<Fr>](repeating: LinearCombination(), count: columns * field)
        for (s, x) in xs.enumerated() {
            for i in 0..<conv.outHeight {
                for j in 0..<conv.outWidth {
                    let column = s * positions + i * conv.outWidth + j
                    for (t, index) in conv.window(row: i, column: j).enumerated() {
                        patchesT[column * field + t] = x[index]
                    }
                }
            }
        }
        context.commit(in: cs)
        let challenge = cs.drawChallenge()
        let powers = cs.challengePowers(challenge, count: max(channels, 1))
        let deltaMatrix = LCMatrix(
            rows: channels, columns: columns,
            entries: (0..<(channels * columns)).map { e in
                let o = e / columns, column = e % columns
                return deltaVariables[column / positions][o * positions + column % positions]
            })
        cs.freivalds(
            deltaMatrix, LCMatrix(rows: columns, columns: field, entries: patchesT),
            equals: LCMatrix(rows: channels, columns: field, entries: sums), challenge: challenge, rhoPowers: powers,
            "dK.freivalds")
        context.finish(in: cs, challenge: challenge)
        return (cs, updatedLayer)
    }
}

extension CircuitSpec {
    /// A committed dataset of `inputs` (already in fixed point) with a fresh secret, sized for
    /// this spec: what `buildBatched`, `circuit info` and the batched benchmarks prove against.
    public func dataset(inputs: [[Int64]], labels: [Int]) throws -> CommittedDataset {
        try CommittedDataset(
            values: inputs, labels: labels, classes: server.outputs, layout: inputLayout, depth: datasetDepth,
            secret: SecureRandom.bytes(32))
    }

    /// Builds one part's batched circuit and witness for the samples at `indices` of `dataset`
    /// (one batch: exactly `batch` of them), with fresh salts. The
    /// server's activations and the client's masked gradients are computed natively first, as
    /// the protocol's parties would. `oracle` is the proof system's challenge derivation (nil:
    /// the circuit's own stand-in, enough to count constraints and check the witness). `linked`:
    /// the update's linked form (`batchedUpdateCircuit(..., linked: true)`).
    public func buildBatched(
        _ part: Part, dataset: CommittedDataset, indices: [Int],
        layers: (client: QuantizedConv2d, server: QuantizedDense), session: Fr, step: UInt64,
        linked: Bool = false, oracle: (@Sendable ([Fr], [Fr]) -> Fr)? = nil, witnessOnly: Bool = false
    ) throws -> ConstraintSystem<Fr> {
        guard indices.count == batch else {
            throw CircuitSpecError.invalidField(
                file: name, field: "batch", expected: "the number of samples proved (\(indices.count))")
        }
        let samples = try indices.map { i throws(DatasetCommitmentError) in try dataset.opening(i) }
        switch part {
        case .client:
            return try batchedForwardCircuit(
                layers.client, samples: samples, session: session, step: step, salt: .random(), oracle: oracle,
                witnessOnly: witnessOnly)
        case .server:
            let activations = try BatchedStep.forward(layers.client, inputs: samples.map(\.values))
            return try batchedServerCircuit(
                layers.server, activations: activations, labels: samples.map(\.label), session: session,
                step: step, saltBefore: .random(), saltAfter: .random(), oracle: oracle,
                witnessOnly: witnessOnly
            ).circuit
        case .clientUpdate:
            let activations = try BatchedStep.forward(layers.client, inputs: samples.map(\.values))
            let server = try BatchedStep.server(
                layers.server, activations: activations, labels: samples.map(\.label),
                learningRateShift: learningRateShift(atStep: step), loss: loss)
            let delta = BatchedStep.maskedGradients(activations: activations, gradients: server.inputGradients)
            return try batchedUpdateCircuit(
                layers.client, samples: samples, masked: delta, session: session, step: step,
                saltBefore: .random(), saltAfter: .random(), linked: linked, oracle: oracle,
                witnessOnly: witnessOnly
            ).circuit
        }
    }
}

extension CircuitSpec {
    /// This spec with another batch size (validated like a loaded spec): `circuit info --batch`
    /// and the benchmarks compare batch sizes of one architecture. At batch 1 a learning-rate
    /// schedule is dropped (the one-sample circuits take no rate input): the reference runs at
    /// the schedule's first rate.
    public func withBatch(_ newBatch: Int) throws(CircuitSpecError) -> CircuitSpec {
        let encoded: Data
        do {
            guard var object = try JSONSerialization.jsonObject(with: JSONEncoder().encode(self)) as? [String: Any]
            else {
                throw CircuitSpecError.malformed(file: name, reason: "spec does not encode as an object")
            }
            object["batch"] = newBatch
            // The one-sample circuits fix the rate: at batch 1 a schedule keeps its first rate.
            if newBatch == 1 { object["learning_rate_schedule"] = nil }
            encoded = try JSONSerialization.data(withJSONObject: object)
        } catch let error as CircuitSpecError {
            throw error
        } catch {
            throw CircuitSpecError.malformed(file: name, reason: "\(error)")
        }
        return try CircuitSpec.load(encoded, file: name)
    }
}
