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

    public static func verify(header: RecordHeader, steps: [StepRecord], spec: CircuitSpec, keys: SplitKeys?) throws(SplitError) -> Report {
        func fail(_ step: UInt64, _ reason: String) -> SplitError { .rejected(step: step, reason: reason) }
        guard let session = Hex.field(header.session) else { throw fail(0, "the header's session id is not a field element") }
        if header.mode.usesProofs {
            guard let keys else { throw .invalidArgument("a \(header.mode.rawValue) record needs the keys (--keys DIR) to check its proofs") }
            guard header.verifyingKeyHashes == keys.hashes.map(Hex.encode) else {
                throw fail(0, "the record was made under other verifying keys than the ones given")
            }
        }
        var transcript = Transcript(session: header.session)
        var proofs = 0, openings = 0
        var clientChain = Hex.field(header.clientStart)
        var serverChain = Hex.field(header.serverStart)
        let f = spec.format
        for (index, record) in steps.enumerated() {
            let t = record.step
            guard t == UInt64(index) else { throw fail(t, "step records out of order: line \(index + 2) holds step \(t)") }
            guard record.activations.count == spec.cutWidth, record.gradient.count == spec.cutWidth,
                  (0..<spec.server.outputs).contains(record.label) else {
                throw fail(t, "activations, gradient or label have the wrong size")
            }
            if header.mode.usesCommitments {
                func field(_ text: String, _ name: String) throws(SplitError) -> Fr {
                    guard let value = Hex.field(text) else { throw fail(t, "\(name) is not a field element") }
                    return value
                }
                let cA = try field(record.activationCommitment, "activation_commitment")
                let cG = try field(record.gradientCommitment, "gradient_commitment")
                let opensA = (try? Commitments.activations(record.activations, label: record.label, salt: try field(record.activationSalt, "activation_salt"))) == cA
                let opensG = (try? Commitments.gradient(record.gradient, salt: try field(record.gradientSalt, "gradient_salt"))) == cG
                guard opensA else { throw fail(t, "the activations do not open their commitment") }
                guard opensG else { throw fail(t, "the gradient does not open its commitment") }
                openings += 2
                let cW = try field(record.clientWeights, "client_weights")
                let before = try field(record.serverBefore, "server_before")
                let after = try field(record.serverAfter, "server_after")
                if let expected = clientChain, expected != cW { throw fail(t, "the client's weight commitment breaks its chain") }
                guard before == serverChain else { throw fail(t, "the server's weight commitment breaks its chain") }
                clientChain = record.clientWeightsAfter.isEmpty ? nil : try field(record.clientWeightsAfter, "client_weights_after")
                serverChain = after
                if header.mode.usesProofs, let keys {
                    func check(_ hex: String, _ key: PartKey, _ inputs: [Fr], _ name: String) throws(SplitError) {
                        guard let bytes = Hex.decode(hex), let proof = try? Proof(ethereumBytes: bytes) else {
                            throw fail(t, "the \(name) proof is missing or malformed")
                        }
                        guard ProofWork.verify(key, proof: proof, publicInputs: inputs) else { throw fail(t, "the \(name) proof does not verify") }
                        proofs += 1
                    }
                    guard let cWAfter = clientChain else { throw fail(t, "the client's weights after the step are missing") }
                    try check(record.forwardProof, keys.forward,
                              Statement.forward(session: session, step: t, weights: cW, activations: record.activations), "forward")
                    try check(record.serverProof, keys.server,
                              Statement.server(session: session, step: t, activations: record.activations, label: record.label,
                                               classes: spec.server.outputs, format: f, gradient: record.gradient, before: before, after: after),
                              "server step")
                    try check(record.updateProof, keys.update,
                              Statement.update(session: session, step: t, activations: record.activations, gradient: record.gradient,
                                               before: cW, after: cWAfter), "client update")
                }
            }
            transcript.append(record)
        }
        return Report(steps: steps.count, proofsChecked: proofs, openingsChecked: openings, transcriptHead: transcript.head.hex)
    }
}
