import Algebra
import Commitment
import Foundation
import Groth16
import ZKML

/// Offline re-check of a session record (`verisplit split verify-transcript`): every commitment
/// opening, every link of both weight-commitment chains, every proof under the given keys, and
/// the hash-chained transcript rebuilt from the steps.
public enum RecordVerifier {
    public struct Report: Sendable, Equatable {
        public let steps: Int
        public let proofsChecked: Int
        public let openingsChecked: Int
        public let transcriptHead: String
    }

    /// Checks the record against the spec (`specHash` is the SHA-256 of the spec file the caller
    /// read) and, for the modes with proofs, the keys. Fails closed: a missing or unparsable
    /// commitment, proof, sample leaf or schedule secret is an error, never a skipped check.
    public static func verify(header: RecordHeader, steps: [StepRecord], spec: CircuitSpec, specHash: [UInt8],
                              keys: SplitKeys?) throws(SplitError) -> Report {
        func fail(_ step: UInt64, _ reason: String) -> SplitError { .rejected(step: step, reason: reason) }
        guard let session = Hex.field(header.session) else { throw fail(0, "the header's session id is not a field element") }
        guard header.specHash == Hex.encode(specHash) else {
            throw fail(0, "the record was made for another spec (SHA-256 \(header.specHash.prefix(16))...) than the one given")
        }
        if header.mode.usesProofs {
            guard let keys else { throw .invalidArgument("a \(header.mode.rawValue) record needs the keys (--keys DIR) to check its proofs") }
            guard header.verifyingKeyHashes == keys.hashes.map(Hex.encode) else {
                throw fail(0, "the record was made under other verifying keys than the ones given")
            }
        }
        guard let announcement = header.announcement, header.datasetSize >= 1,
              header.datasetSize <= UInt64(1) << UInt64(spec.datasetDepth) else {
            throw fail(0, "the header's dataset announcement (root, size, schedule commitment) is missing or malformed")
        }
        var schedule: SampleSchedule? = announcement.fixedScheduleSeed != nil ? announcement.schedule(session: session, revealedSecret: nil) : nil
        var transcript = Transcript(session: header.session)
        var proofs = 0, openings = 0
        let f = spec.format
        func field(_ text: String, _ name: String, _ t: UInt64) throws(SplitError) -> Fr {
            guard let value = Hex.field(text) else { throw fail(t, "\(name) is missing or not a field element") }
            return value
        }
        var clientChain: Fr?
        var serverChain: Fr?
        if header.mode.usesCommitments {
            clientChain = try field(header.clientStart, "the header's client start commitment", 0)
            serverChain = try field(header.serverStart, "the header's server start commitment", 0)
            guard !header.datasetRoot.isEmpty else { throw fail(0, "the header's dataset root is missing") }
        }
        for (index, record) in steps.enumerated() {
            let t = record.step
            guard t == UInt64(index) else { throw fail(t, "step records out of order: line \(index + 2) holds step \(t)") }
            guard record.activations.count == spec.cutWidth, record.gradient.count == spec.cutWidth,
                  (0..<spec.server.outputs).contains(record.label) else {
                throw fail(t, "activations, gradient or label have the wrong size")
            }
            if t == 0, announcement.fixedScheduleSeed == nil {
                guard let secret = Hex.decode(record.scheduleSecret),
                      let opened = announcement.schedule(session: session, revealedSecret: secret) else {
                    throw fail(t, "the schedule secret does not open the header's schedule commitment")
                }
                schedule = opened
            }
            guard var order = schedule else { throw fail(t, "no sample schedule: the record lacks step 0's schedule secret") }
            let expectedIndex = order.index(step: t)
            schedule = order
            guard record.sampleIndex == expectedIndex else {
                throw fail(t, "the step trained on sample \(record.sampleIndex), the schedule says \(expectedIndex)")
            }
            if header.mode.usesCommitments, let start = clientChain, let before = serverChain {
                let cA = try field(record.activationCommitment, "activation_commitment", t)
                let cG = try field(record.gradientCommitment, "gradient_commitment", t)
                let activationSalt = try field(record.activationSalt, "activation_salt", t)
                let gradientSalt = try field(record.gradientSalt, "gradient_salt", t)
                guard (try? Commitments.activations(record.activations, label: record.label, salt: activationSalt)) == cA else {
                    throw fail(t, "the activations do not open their commitment")
                }
                guard (try? Commitments.gradient(record.gradient, salt: gradientSalt)) == cG else {
                    throw fail(t, "the gradient does not open its commitment")
                }
                openings += 2
                let cW = try field(record.clientWeights, "client_weights", t)
                let serverBefore = try field(record.serverBefore, "server_before", t)
                let serverAfter = try field(record.serverAfter, "server_after", t)
                let cWAfter = try field(record.clientWeightsAfter, "client_weights_after", t)
                let leaf = try field(record.sampleLeaf, "sample_leaf", t)
                guard cW == start else { throw fail(t, "the client's weight commitment breaks its chain") }
                guard serverBefore == before else { throw fail(t, "the server's weight commitment breaks its chain") }
                clientChain = cWAfter
                serverChain = serverAfter
                if header.mode.usesProofs, let keys {
                    func check(_ hex: String, _ key: PartKey, _ inputs: [Fr], _ name: String) throws(SplitError) {
                        guard let bytes = Hex.decode(hex), let proof = try? Proof(ethereumBytes: bytes) else {
                            throw fail(t, "the \(name) proof is missing or malformed")
                        }
                        guard ProofWork.verify(key, proof: proof, publicInputs: inputs) else { throw fail(t, "the \(name) proof does not verify") }
                        proofs += 1
                    }
                    try check(record.forwardProof, keys.forward,
                              StepStatement.forward(session: session, step: t, index: expectedIndex, label: record.label,
                                                    root: announcement.root, sample: leaf, weights: cW, activations: record.activations),
                              "forward")
                    try check(record.serverProof, keys.server,
                              StepStatement.server(session: session, step: t, activations: record.activations, label: record.label,
                                                   classes: spec.server.outputs, format: f, gradient: record.gradient,
                                                   before: serverBefore, after: serverAfter),
                              "server step")
                    try check(record.updateProof, keys.update,
                              StepStatement.update(session: session, step: t, label: record.label, sample: leaf,
                                                   activations: record.activations, gradient: record.gradient, before: cW, after: cWAfter),
                              "client update")
                }
            }
            transcript.append(record)
        }
        return Report(steps: steps.count, proofsChecked: proofs, openingsChecked: openings, transcriptHead: transcript.head.hex)
    }
}
