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
        public let transcriptHead: Digest
        /// How the record's claims beyond its proofs were anchored (see `Anchor`).
        public let anchor: AnchorKind
    }

    /// What the record is checked against besides itself.
    ///
    /// A record with proofs (verified, pipelined) binds every public value of a step to its
    /// proofs: an altered sample leaf, index, root or commitment fails a proof. A record without
    /// proofs (ledger, plain) binds them only through the transcript hash chain that both parties
    /// computed, and a party can rewrite its own file consistently (recomputing the session id
    /// and every link). Such a record is evidence only against the peer's: its record file or
    /// the transcript head it reported. `verify` refuses to call one valid on its own.
    public enum Anchor: Sendable {
        case none
        /// The transcript head the peer reported for the same session. It binds every step's
        /// public values except the client's last weight commitment (sent in Finish, outside
        /// the transcript), which only the peer's record or a proof shows.
        case transcriptHead(Digest)
        /// The peer's record of the same session: verified the same way; both must agree on the
        /// header and, over the steps both kept, on the transcript.
        case peerRecord(header: RecordHeader, steps: [StepRecord])
    }

    public enum AnchorKind: String, Sendable, Equatable {
        case proofsOnly = "proofs", transcriptHead = "transcript_head", peerRecord = "peer_record"
    }

    /// Checks the record against the spec (`specHash` is the SHA-256 of the spec file the caller
    /// read) and, for the modes with proofs, the keys. Fails closed: a missing commitment,
    /// proof, sample leaf or schedule secret is a rejection, never a skipped check (and one that
    /// does not parse never got past `SessionRecordFile.read`). The session id must be the one the
    /// header's nonces and parameters derive. A record without proofs needs an `anchor`.
    public static func verify(
        header: RecordHeader, steps: [StepRecord], spec: CircuitSpec, specHash: [UInt8],
        keys: SplitKeys?, anchor: Anchor = .none
    ) throws(SplitError) -> Report {
        func fail(_ step: UInt64, _ rejection: Rejection) -> SplitError { .rejected(step: step, rejection) }
        if case .peerRecord(let peerHeader, _) = anchor, let field = header.differs(from: peerHeader) {
            throw fail(0, .peerRecordDiffers(field))
        }
        let own = try verifySelf(header: header, steps: steps, spec: spec, specHash: specHash, keys: keys)
        switch anchor {
        case .none:
            guard header.mode.usesProofs else { throw .unanchoredRecord(mode: header.mode) }
            return Report(
                steps: steps.count, proofsChecked: own.proofs, openingsChecked: own.openings,
                transcriptHead: own.head, anchor: .proofsOnly)
        case .transcriptHead(let expected):
            guard own.head == expected else { throw fail(UInt64(steps.count), .transcriptHead) }
            return Report(
                steps: steps.count, proofsChecked: own.proofs, openingsChecked: own.openings,
                transcriptHead: expected, anchor: .transcriptHead)
        case .peerRecord(let peerHeader, let peerSteps):
            let peer = try verifySelf(header: peerHeader, steps: peerSteps, spec: spec, specHash: specHash, keys: keys)
            // Both sides keep the steps they settled; after an interruption one may hold more.
            // heads[k] is the head after k steps, and the headers agree, so heads[0] does.
            let common = min(own.heads.count, peer.heads.count)
            for kept in 1..<common where own.heads[kept] != peer.heads[kept] {
                throw fail(UInt64(kept - 1), .peerRecordDiffers("transcript from step \(kept - 1) on"))
            }
            // The transcript does not cover every field (the last step's client weights after
            // its update travel in Finish): the records of the steps both kept must be equal.
            for index in 0..<(common - 1) {
                if let field = steps[index].differs(from: peerSteps[index]) {
                    throw fail(UInt64(index), .peerRecordDiffers("step \(index) \(field)"))
                }
            }
            return Report(
                steps: steps.count, proofsChecked: own.proofs + peer.proofs,
                openingsChecked: own.openings + peer.openings,
                transcriptHead: own.head, anchor: .peerRecord)
        }
    }

    /// The checks a record passes on its own; returns the transcript head after each step
    /// (the first entry: the head before any step).
    private static func verifySelf(
        header: RecordHeader, steps: [StepRecord], spec: CircuitSpec, specHash: [UInt8],
        keys: SplitKeys?
    ) throws(SplitError) -> (proofs: Int, openings: Int, heads: [Digest], head: Digest) {
        func fail(_ step: UInt64, _ rejection: Rejection) -> SplitError { .rejected(step: step, rejection) }
        guard header.specHash == specHash else { throw fail(0, .specMismatch) }
        if header.mode.usesProofs {
            guard let keys else {
                throw .invalidArgument(
                    "a \(header.mode.rawValue) record needs the keys (--keys DIR) to check its proofs")
            }
            guard header.verifyingKeyHashes == keys.hashes else { throw fail(0, .keyMismatch) }
        }
        guard header.datasetSize >= 1, header.datasetSize <= UInt64(1) << UInt64(spec.datasetDepth) else {
            throw fail(0, .malformedHeader("dataset announcement (root, size, schedule commitment)"))
        }
        var clientChain: Fr?
        var serverChain: Fr?
        if header.mode.usesCommitments {
            guard let clientStart = header.clientStart else {
                throw fail(0, .malformedHeader("client start commitment"))
            }
            guard let serverStart = header.serverStart else {
                throw fail(0, .malformedHeader("server start commitment"))
            }
            guard header.datasetRoot != nil else { throw fail(0, .malformedHeader("dataset root")) }
            clientChain = clientStart
            serverChain = serverStart
        }
        guard header.clientNonce.count == 32 else { throw fail(0, .nonceLength(of: .client)) }
        guard header.serverNonce.count == 32 else { throw fail(0, .nonceLength(of: .server)) }
        // The session id binds the nonces, spec, keys, mode and dataset announcement; every
        // proof's statement and the transcript start from it.
        guard header.derivedSession == header.session else { throw fail(0, .sessionIDMismatch) }
        var checks = StepChecks(
            spec: spec, session: header.session, announcement: header.announcement,
            commitments: header.mode.usesCommitments, linkedUpdate: keys?.link != nil)
        var transcript = Transcript(session: Hex.field(header.session))
        var proofs = 0, openings = 0
        var heads = [transcript.head]
        // Proofs are checked in batches (one multi-pairing per part, `ProofBatch`); the steps'
        // other checks run as they come, and a failure anywhere is reported at the earliest
        // failing step, as one-by-one checking would.
        var pending = ProofBatch(keys: keys)
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
                    if header.mode.usesProofs, keys != nil, let forward, let server {
                        for (part, proof, statement) in [
                            (CircuitSpec.Part.client, record.forwardProof, forward),
                            (.server, record.serverProof, server),
                            (.clientUpdate, record.updateProof, update),
                        ] {
                            guard let proof else { throw Rejection.proofMissing(part) }
                            // A linked update's link holds with the same step's forward commitment.
                            let linkedTo = part == .clientUpdate ? record.forwardProof?.commitment : nil
                            pending.add(
                                step: t,
                                ProofCheck(part: part, proof: proof, statement: statement, linkedTo: linkedTo))
                            proofs += 1
                        }
                    }
                }
            } catch {
                if let (step, part) = pending.firstInvalid() { throw fail(step, .proofInvalid(part)) }
                throw fail(t, error)
            }
            transcript.append(record)
            heads.append(transcript.head)
        }
        if !pending.allValid(), let (step, part) = pending.firstInvalid() { throw fail(step, .proofInvalid(part)) }
        return (proofs, openings, heads, transcript.head)
    }
}

/// A record's proofs, checked together: per part, one batch verification (random linear
/// combination, soundness error about 2^-128 per batch); when a batch fails, one by one in step
/// order to name the first invalid proof.
struct ProofBatch {
    let keys: SplitKeys?
    private(set) var checks: [(step: UInt64, check: ProofCheck)] = []

    init(keys: SplitKeys?) { self.keys = keys }

    mutating func add(step: UInt64, _ check: ProofCheck) { checks.append((step, check)) }

    /// Proofs per multi-pairing: bounds the memory of a batch (each proof's B is prepared) and
    /// the multi-pairing's work per call, whatever the record's length.
    static let chunk = 64

    /// Every pending proof verifies.
    func allValid() -> Bool {
        guard let keys else { return checks.isEmpty }
        return CircuitSpec.Part.allCases.allSatisfy { part in
            let batch = checks.filter { $0.check.part == part }.map(\.check)
            return stride(from: 0, to: batch.count, by: Self.chunk).allSatisfy { start in
                StepProof.batchVerifies(
                    key: keys.key(part).verifyingKey, Array(batch[start..<min(start + Self.chunk, batch.count)]),
                    link: keys.linkVerifyingKey(for: part))
            }
        }
    }

    /// The earliest invalid proof (step order, then forward, server, update), or nil.
    func firstInvalid() -> (UInt64, CircuitSpec.Part)? {
        guard !checks.isEmpty else { return nil }
        if allValid() { return nil }
        for (step, check) in checks where !ProofWork.verify(check, keys: keys) { return (step, check.part) }
        return nil
    }
}

extension StepRecord {
    /// The first field in which two parties' records of one step disagree, or nil.
    func differs(from peer: StepRecord) -> String? {
        let fields: [(String, Bool)] = [
            ("step", step == peer.step), ("activations", activations == peer.activations),
            ("samples", samples == peer.samples),
            ("schedule_secret", scheduleSecret == peer.scheduleSecret),
            ("activation_salt", activationSalt == peer.activationSalt),
            ("activation_commitment", activationCommitment == peer.activationCommitment),
            ("client_weights", clientWeights == peer.clientWeights),
            ("forward_proof", forwardProof == peer.forwardProof),
            ("gradient", gradient == peer.gradient), ("gradient_salt", gradientSalt == peer.gradientSalt),
            ("gradient_commitment", gradientCommitment == peer.gradientCommitment),
            ("server_before", serverBefore == peer.serverBefore),
            ("server_after", serverAfter == peer.serverAfter), ("server_proof", serverProof == peer.serverProof),
            ("client_weights_after", clientWeightsAfter == peer.clientWeightsAfter),
            ("update_proof", updateProof == peer.updateProof),
        ]
        return fields.first { !$0.1 }?.0
    }
}

extension RecordHeader {
    /// The first header field in which two parties' records of one session disagree (the role
    /// aside, which must differ), or nil.
    func differs(from peer: RecordHeader) -> String? {
        if role == peer.role { return "role (both records are the \(role.rawValue)'s)" }
        let fields: [(String, Bool)] = [
            ("session", session == peer.session), ("client_nonce", clientNonce == peer.clientNonce),
            ("server_nonce", serverNonce == peer.serverNonce), ("mode", mode == peer.mode),
            ("spec_hash", specHash == peer.specHash),
            ("verifying_key_hashes", verifyingKeyHashes == peer.verifyingKeyHashes),
            ("client_start", clientStart == peer.clientStart),
            ("server_start", serverStart == peer.serverStart), ("dataset_root", datasetRoot == peer.datasetRoot),
            ("dataset_size", datasetSize == peer.datasetSize),
            ("schedule_commitment", scheduleCommitment == peer.scheduleCommitment),
            ("fixed_schedule_seed", fixedScheduleSeed == peer.fixedScheduleSeed),
        ]
        return fields.first { !$0.1 }?.0
    }
}
