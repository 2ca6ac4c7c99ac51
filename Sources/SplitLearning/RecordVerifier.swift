import Algebra
import Commitment
import Foundation
import Groth16
import ZKML

/// Offline re-check of a session record (`verisplit split verify-transcript`): the same
/// `StepChecks` the parties ran (sizes, ranges, schedule, every commitment opening, both
/// weight-commitment chains), every proof under the given keys, and the hash-chained transcript
/// rebuilt from the steps.
public enum RecordVerifier {
    public struct Report: Sendable, Equatable {
        public let steps: Int
        public let proofsChecked: Int
        public let openingsChecked: Int
        public let transcriptHead: String
    }

    /// Checks the record against the spec (`specHash` is the SHA-256 of the spec file the caller
    /// read) and, for the modes with proofs, the keys. Fails closed: a missing commitment,
    /// proof, sample leaf or schedule secret is a rejection, never a skipped check (and one that
    /// does not parse never got past `SessionRecordFile.read`).
    public static func verify(header: RecordHeader, steps: [StepRecord], spec: CircuitSpec, specHash: [UInt8],
                              keys: SplitKeys?) throws(SplitError) -> Report {
        func fail(_ step: UInt64, _ rejection: Rejection) -> SplitError { .rejected(step: step, rejection) }
        guard header.specHash == specHash else { throw fail(0, .specMismatch) }
        if header.mode.usesProofs {
            guard let keys else { throw .invalidArgument("a \(header.mode.rawValue) record needs the keys (--keys DIR) to check its proofs") }
            guard header.verifyingKeyHashes == keys.hashes else { throw fail(0, .keyMismatch) }
        }
        guard header.datasetSize >= 1, header.datasetSize <= UInt64(1) << UInt64(spec.datasetDepth) else {
            throw fail(0, .malformedHeader("dataset announcement (root, size, schedule commitment)"))
        }
        var clientChain: Fr?
        var serverChain: Fr?
        if header.mode.usesCommitments {
            guard let clientStart = header.clientStart else { throw fail(0, .malformedHeader("client start commitment")) }
            guard let serverStart = header.serverStart else { throw fail(0, .malformedHeader("server start commitment")) }
            guard header.datasetRoot != nil else { throw fail(0, .malformedHeader("dataset root")) }
            clientChain = clientStart
            serverChain = serverStart
        }
        var checks = StepChecks(spec: spec, session: header.session, announcement: header.announcement,
                                commitments: header.mode.usesCommitments)
        var transcript = Transcript(session: Hex.field(header.session))
        var proofs = 0, openings = 0
        for (index, record) in steps.enumerated() {
            let t = record.step
            do throws(Rejection) {
                guard t == UInt64(index) else { throw Rejection.outOfOrder(line: index + 2, step: t) }
                let forward = try checks.activations(record, clientChain: clientChain)
                let server = try checks.gradient(record, serverChain: serverChain)
                if header.mode.usesCommitments {
                    openings += 2
                    let update = try checks.update(record)
                    clientChain = record.clientWeightsAfter
                    serverChain = record.serverAfter
                    if header.mode.usesProofs, let keys, let forward, let server {
                        for (part, proof, statement) in [(CircuitSpec.Part.client, record.forwardProof, forward),
                                                         (.server, record.serverProof, server),
                                                         (.clientUpdate, record.updateProof, update)] {
                            guard let proof else { throw Rejection.proofMissing(part) }
                            guard ProofWork.verify(ProofCheck(part: part, proof: proof, statement: statement), keys: keys) else {
                                throw Rejection.proofInvalid(part)
                            }
                            proofs += 1
                        }
                    }
                }
            } catch {
                throw fail(t, error)
            }
            transcript.append(record)
        }
        return Report(steps: steps.count, proofsChecked: proofs, openingsChecked: openings, transcriptHead: transcript.head.hex)
    }
}
