import Algebra
import Circuit
import Commitment
import Groth16
import ZKML

/// A proof to check: which part's key, the proof, and the public inputs it must verify for;
/// for a linked update, the commitment of the step's forward proof its link must hold with.
public struct ProofCheck: Sendable, Equatable {
    public let part: CircuitSpec.Part
    public let proof: StepProof
    public let statement: [Fr]
    public let linkedTo: G1Affine?

    public init(part: CircuitSpec.Part, proof: StepProof, statement: [Fr], linkedTo: G1Affine? = nil) {
        self.part = part
        self.proof = proof
        self.statement = statement
        self.linkedTo = linkedTo
    }
}

/// The checks of one step, written once and run by the server on the client's activations, by
/// the client on the server's gradient, and by the offline verifier on a whole record: sizes and
/// ranges of the values, labels, the sample schedule, commitment openings and the weight
/// chains. Each returns the public inputs of the proof that covers the message (`ZKML.StepStatement`,
/// the order the circuits allocate them), or nil when the mode has no commitments; verifying
/// the proof is the caller's (the parties hand it to their transport, off the protocol's state).
///
/// Cost: linear in the cut width, plus one Poseidon opening per message, the batch's Merkle
/// openings (at most depth hashes each, about one once an epoch has passed) and the schedule's
/// permutation, once per epoch.
public struct StepChecks: Sendable {
    public let spec: CircuitSpec
    public let session: Fr
    public let announcement: DatasetAnnouncement
    /// The mode has commitments (openings, chains, sample leaves).
    public let commitments: Bool
    /// The update proof is the linked update's (`SplitKeys.link`): its statement has no leaves
    /// or labels.
    public let linkedUpdate: Bool
    /// The public sample order: known from the start for a fixed schedule, else once step 0
    /// reveals the client's schedule secret.
    public private(set) var schedule: SampleSchedule?
    /// Batched steps: the samples' leaves are opened under the announced root here, natively
    /// (their Merkle paths travel with the message; the forward proof binds the values to the
    /// leaf). Remembers verified nodes, so over an epoch an opening costs about one hash.
    private var datasetOpenings: MerkleOpeningVerifier

    public init(
        spec: CircuitSpec, session: Fr, announcement: DatasetAnnouncement, commitments: Bool,
        revealedSecret: [UInt8]? = nil, linkedUpdate: Bool = false
    ) {
        self.spec = spec
        self.session = session
        self.announcement = announcement
        self.commitments = commitments
        self.linkedUpdate = linkedUpdate
        datasetOpenings = MerkleOpeningVerifier(root: announcement.root, depth: spec.datasetDepth)
        schedule =
            announcement.fixedScheduleSeed != nil || revealedSecret != nil
            ? announcement.schedule(session: session, revealedSecret: revealedSecret) : nil
    }

    /// The sample indices of step `t`: positions t B ..< (t + 1) B of the schedule's stream (one
    /// permutation of the set per epoch), so a session visits every sample once per epoch
    /// whatever the batch size B.
    public mutating func indices(step t: UInt64) throws(Rejection) -> [Int] {
        guard var order = schedule else { throw .noSchedule }
        let batch = UInt64(spec.batch)
        let (first, overflow) = t.multipliedReportingOverflow(by: batch)
        guard !overflow, first <= UInt64.max - batch else {
            throw .beyondAgreedSteps(step: t, agreed: UInt64.max / batch)
        }
        let indices = (0..<batch).map { order.index(step: first + $0) }
        schedule = order
        return indices
    }

    /// A step's flat values (the samples' rows one after another) as one row per sample.
    func rows(_ values: [Int64]) -> [[Int64]] {
        let width = spec.cutWidth
        return (0..<spec.batch).map { s in Array(values[(s * width)..<((s + 1) * width)]) }
    }

    /// The batch's sample leaves, each present.
    private func leaves(_ r: StepRecord) throws(Rejection) -> [Fr] {
        var leaves: [Fr] = []
        for sample in r.samples { leaves.append(try present(sample.leaf, .sampleLeaf)) }
        return leaves
    }

    /// A message's step and session, before anything else is read.
    public static func envelope(step: UInt64, session: Fr?, expected: UInt64, in expectedSession: Fr) throws(Rejection)
    {
        guard step == expected else { throw .wrongStep(expected: expected, got: step) }
        guard session == expectedSession else { throw .wrongSession }
    }

    /// A message's link: the transcript head before it, as the receiver's transcript has it.
    public static func link(_ link: [UInt8]?, head: Digest, _ value: StepValue) throws(Rejection) {
        guard link == head.bytes else { throw .transcriptLink(value) }
    }

    /// The activations half of a step: the batch's sample count, the values' count and range
    /// (the cut follows a ReLU: [0, 2^(B-1))), the labels, the schedule (step 0 opens it with the
    /// revealed secret) and, with commitments, the opening of the activations' commitment and
    /// the client's weight chain (`clientChain`: the commitment the weights must continue; nil
    /// when the message itself defines the next link). Returns the forward proof's statement.
    public mutating func activations(_ r: StepRecord, clientChain: Fr?) throws(Rejection) -> [Fr]? {
        let f = spec.format
        guard r.samples.count == spec.batch else { throw .wrongSampleCount(expected: spec.batch, got: r.samples.count) }
        let width = spec.cutWidth * spec.batch
        guard r.activations.count == width else {
            throw .wrongSize(.activations, expected: width, got: r.activations.count)
        }
        if let bad = r.activations.firstIndex(where: { $0 < 0 || $0 > f.maxMagnitude }) {
            throw .outOfRange(.activations, index: bad, bits: f.valueBits)
        }
        for sample in r.samples where !(0..<spec.server.outputs).contains(sample.label) {
            throw .labelOutOfRange(label: sample.label, classes: spec.server.outputs)
        }
        if r.step == 0, announcement.fixedScheduleSeed == nil {
            // The coin toss completes: the secret must open the commitment the session id binds.
            guard let opened = announcement.schedule(session: session, revealedSecret: r.scheduleSecret) else {
                throw .scheduleSecretDoesNotOpen
            }
            schedule = opened
        }
        let expected = try indices(step: r.step)
        for (sample, index) in zip(r.samples, expected) where sample.index != index {
            throw .wrongSampleIndex(expected: index, got: sample.index)
        }
        guard commitments else { return nil }
        let salt = try present(r.activationSalt, .activationSalt)
        let commitment = try present(r.activationCommitment, .activationCommitment)
        guard
            (try? MessageCommitment.activations(r.activations, labels: r.samples.map(\.label), salt: salt, format: f))
                == commitment
        else {
            throw .doesNotOpen(.activations)
        }
        let weights = try present(r.clientWeights, .clientWeights)
        if let clientChain, weights != clientChain { throw .chainBroken(.client) }
        if spec.usesBatchedCircuits {
            let leaves = try leaves(r)
            for (s, sample) in r.samples.enumerated()
            where !datasetOpenings.verify(leaf: leaves[s], index: sample.index, siblings: sample.siblings) {
                throw .notInDataset(sample: s, index: sample.index)
            }
            return BatchedStatement.forward(
                session: session, step: r.step, labels: r.samples.map(\.label), leaves: leaves, weights: weights,
                activations: rows(r.activations))
        }
        let sample = r.samples[0]
        let leaf = try present(sample.leaf, .sampleLeaf)
        return StepStatement.forward(
            session: session, step: r.step, index: sample.index, label: sample.label, root: announcement.root,
            sample: leaf, weights: weights, activations: r.activations)
    }

    /// The gradient half: count and range (any B-bit value; no abs(), since |Int64.min| traps and
    /// a peer may send it) and, with commitments, the opening of the gradient's commitment and
    /// the server's weight chain (`serverChain`: the commitment its weights must continue).
    /// Returns the server step proof's statement.
    public func gradient(_ r: StepRecord, serverChain: Fr?) throws(Rejection) -> [Fr]? {
        let f = spec.format
        let width = spec.cutWidth * spec.batch
        guard r.gradient.count == width else { throw .wrongSize(.gradient, expected: width, got: r.gradient.count) }
        if let bad = r.gradient.firstIndex(where: { $0 > f.maxMagnitude || $0 < -f.maxMagnitude }) {
            throw .outOfRange(.gradient, index: bad, bits: f.valueBits)
        }
        guard commitments else { return nil }
        let salt = try present(r.gradientSalt, .gradientSalt)
        let commitment = try present(r.gradientCommitment, .gradientCommitment)
        guard (try? MessageCommitment.gradient(r.gradient, salt: salt, format: f)) == commitment else {
            throw .doesNotOpen(.gradient)
        }
        let before = try present(r.serverBefore, .serverBefore)
        let after = try present(r.serverAfter, .serverAfter)
        if let serverChain, before != serverChain { throw .chainBroken(.server) }
        guard r.activations.count == spec.cutWidth * spec.batch, r.samples.count == spec.batch else {
            throw .wrongSize(.activations, expected: spec.cutWidth * spec.batch, got: r.activations.count)
        }
        if spec.usesBatchedCircuits {
            return BatchedStatement.server(
                session: session, step: r.step, learningRate: spec.learningRateMultiplier(atStep: r.step),
                activations: rows(r.activations), labels: r.samples.map(\.label), gradients: rows(r.gradient),
                before: before, after: after)
        }
        let sample = r.samples[0]
        return StepStatement.server(
            session: session, step: r.step, activations: r.activations, label: sample.label,
            classes: spec.server.outputs, format: f, gradient: r.gradient, before: before, after: after)
    }

    /// The client's update of a checked step, from the weights under `clientWeights` to those
    /// under `clientWeightsAfter`. Returns the update proof's statement.
    public func update(_ r: StepRecord) throws(Rejection) -> [Fr] {
        let before = try present(r.clientWeights, .clientWeights)
        let after = try present(r.clientWeightsAfter, .clientWeightsAfter)
        guard r.samples.count == spec.batch, let sample = r.samples.first else {
            throw .wrongSampleCount(expected: spec.batch, got: r.samples.count)
        }
        guard r.activations.count == spec.cutWidth * spec.batch, r.gradient.count == spec.cutWidth * spec.batch else {
            throw .wrongSize(.gradient, expected: spec.cutWidth * spec.batch, got: r.gradient.count)
        }
        // As `gradient` refuses them: the update's statement stands on its own (a record check
        // or a server that verifies the update before the gradient half).
        if let bad = r.gradient.firstIndex(where: { $0 > spec.format.maxMagnitude || $0 < -spec.format.maxMagnitude }) {
            throw .outOfRange(.gradient, index: bad, bits: spec.format.valueBits)
        }
        if spec.usesBatchedCircuits {
            // The client masks the gradient by its own ReLU, [A > 0], which the verifier reads
            // off the activations it received.
            return BatchedStatement.update(
                session: session, step: r.step, learningRate: spec.learningRateMultiplier(atStep: r.step),
                labels: linkedUpdate ? [] : r.samples.map(\.label), leaves: linkedUpdate ? [] : try leaves(r),
                masked: BatchedStep.maskedGradients(activations: rows(r.activations), gradients: rows(r.gradient)),
                before: before, after: after)
        }
        let leaf = try present(sample.leaf, .sampleLeaf)
        return StepStatement.update(
            session: session, step: r.step, label: sample.label, sample: leaf, activations: r.activations,
            gradient: r.gradient, before: before, after: after)
    }

    private func present(_ value: Fr?, _ field: StepField) throws(Rejection) -> Fr {
        guard let value else { throw .missing(field) }
        return value
    }
}

/// The hiding commitments to a message's values (activations with the labels, gradients): the
/// Poseidon commitment sponge over the values packed `PackingLayout.perElement` per field element
/// (10 for 24-bit values) and a fresh salt, as the weights are committed (`ParameterCommitment`).
/// Opening one costs a tenth of the permutations of one element per value (at batch 16 of
/// split-b16: 4 permutations instead of 33).
///
/// Binding: packing is injective on the message format's signed B-bit range, and every receiver
/// checks that range (`StepChecks.activations`, `gradient`) before it opens a commitment, so two
/// in-range messages with one commitment are a Poseidon collision. A value outside the range is
/// reduced modulo 2^B into it, only so that a misbehaving sender's commitment is defined: no
/// receiver opens it.
public enum MessageCommitment {
    public static func activations(
        _ values: [Int64], labels: [Int], salt: Fr, format: FixedPointFormat
    ) throws(CommitmentError) -> Fr {
        try commit(values + labels.map { Int64($0) }, salt: salt, format: format)
    }

    public static func gradient(_ values: [Int64], salt: Fr, format: FixedPointFormat) throws(CommitmentError) -> Fr {
        try commit(values, salt: salt, format: format)
    }

    /// The weight commitment's packing and sponge (`ParameterCommitment`) over the values brought
    /// into the signed B-bit range.
    private static func commit(_ values: [Int64], salt: Fr, format: FixedPointFormat) throws(CommitmentError) -> Fr {
        let layout = ParameterCommitment.layout(format)
        let mask = (UInt64(1) << UInt64(layout.bits)) - 1
        let inRange = values.map { v in
            layout.contains(v) ? v : Int64(bitPattern: UInt64(bitPattern: v &+ layout.offset) & mask) - layout.offset
        }
        return try ParameterCommitment.commit(inRange, format: format, salt: salt)
    }
}
