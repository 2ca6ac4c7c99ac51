import Algebra
import Ceremony
import Circuit
import Foundation
import Groth16
import ZKML

/// Keys for a split session from multi-party ceremonies, one per proved part, kept as
/// `ROOT/client`, `ROOT/server` and `ROOT/client-update` (each a `verisplit ceremony`
/// directory). Whoever ran a single-party setup could forge proofs; a ceremony is safe if one
/// contributor was honest *in each phase*: whoever knows the phase-1 secrets (tau, alpha, beta)
/// forges with gamma = the generator, whatever delta is, and whoever knows delta forges too. Each
/// party therefore contributes to both phases of every part and refuses keys whose transcript
/// lacks its own contribution in either phase. A phase 1 imported from a public `.ptau` (a
/// Perpetual Powers of Tau file, say) replaces the party's own phase-1 contribution only when the
/// party pinned that exact file by its SHA-256: then it trusts that public ceremony, by name.
public enum SplitCeremony {
    /// Starts the three ceremonies for `spec` under `root` (phase 1 from the generators at the
    /// smallest power that fits each circuit, or phase 2 at once from an imported `.ptau`).
    public static func create(spec: CircuitSpec, root: URL, ptau: [UInt8]? = nil) throws {
        let circuits = try SplitKeys.circuits(for: spec)
        for part in CircuitSpec.Part.allCases {
            guard let r1cs = circuits[part] else { continue }
            _ = try CeremonyTranscript.create(
                directory: root.appendingPathComponent(part.rawValue).path,
                circuit: Circom.writeR1CS(r1cs), ptau: ptau)
        }
    }

    /// Verifies each part's ceremony in full, checks that it holds one of `receipts` (this
    /// party's own contributions) and that its circuit is the spec's, and returns the keys the
    /// ceremonies yield. Throws, naming the part, when a transcript is unsound, has no phase-2
    /// contribution yet, lacks this party's contribution or was made for another circuit.
    public static func keys(
        root: URL, spec: CircuitSpec, receipts: [ContributionReceipt], pinnedPtauSHA256: [String] = [],
        progress: @escaping (String) -> Void = { _ in }
    ) throws -> SplitKeys {
        try verify(root: root, spec: spec, progress: progress).keys(
            receipts: receipts, pinnedPtauSHA256: pinnedPtauSHA256)
    }

    /// Verifies the three ceremonies in full (the costly part: every contribution's proofs and
    /// the consistency of every state) and checks each was run for the spec's circuit.
    public static func verify(
        root: URL, spec: CircuitSpec, progress: @escaping (String) -> Void = { _ in }
    ) throws -> VerifiedSplitCeremony {
        let expected = try SplitKeys.circuits(for: spec)
        var parts: [CircuitSpec.Part: (directory: String, ceremony: VerifiedCeremony)] = [:]
        for part in CircuitSpec.Part.allCases {
            let directory = root.appendingPathComponent(part.rawValue).path
            progress("verifying the \(part.rawValue) ceremony")
            let verified = try CeremonyTranscript.load(directory).verify()
            guard let circuit = expected[part], Groth16.circuitHash(circuit) == Groth16.circuitHash(verified.circuit)
            else {
                throw SplitError.file(
                    path: directory,
                    reason: "the ceremony was run for another circuit than the spec's \(part.rawValue) part")
            }
            parts[part] = (directory, verified)
        }
        return VerifiedSplitCeremony(parts: parts)
    }
}

/// Three verified ceremonies, before a party decides whether to trust their keys.
public struct VerifiedSplitCeremony: Sendable {
    let parts: [CircuitSpec.Part: (directory: String, ceremony: VerifiedCeremony)]

    /// The keys, if every part has a phase-2 contribution from this party (one of `receipts`) and
    /// a phase 1 it trusts: its own contribution, or an imported `.ptau` it pinned by SHA-256.
    public func keys(receipts: [ContributionReceipt], pinnedPtauSHA256: [String] = []) throws -> SplitKeys {
        guard !receipts.isEmpty else {
            throw SplitError.invalidArgument(
                "give this party's ceremony receipts (--receipt FILE for each part and phase it contributed to)")
        }
        let pins = Set(pinnedPtauSHA256.map { $0.lowercased() })
        func load(_ part: CircuitSpec.Part) throws -> PartKey {
            guard let (directory, verified) = parts[part] else {
                throw SplitError.invalidArgument("no \(part.rawValue) ceremony")
            }
            guard let key = verified.provingKey else {
                throw SplitError.file(
                    path: directory,
                    reason: "the ceremony has no phase-2 contribution yet: its keys would let anyone forge proofs")
            }
            guard receipts.contains(where: { $0.phase == 2 && verified.contains($0) }) else {
                throw SplitError.ceremonyLacksContribution(path: directory, phase: 2, importedPtauSHA256: nil)
            }
            let ownPhase1 = receipts.contains { $0.phase == 1 && verified.contains($0) }
            let pinned = !verified.phase1StartsFromGenerators && pins.contains(verified.phase1StartSHA256)
            guard ownPhase1 || pinned else {
                throw SplitError.ceremonyLacksContribution(
                    path: directory, phase: 1,
                    importedPtauSHA256: verified.phase1StartsFromGenerators ? nil : verified.phase1StartSHA256)
            }
            return PartKey(part: part, provingKey: key, r1cs: verified.circuit)
        }
        return SplitKeys(forward: try load(.client), server: try load(.server), update: try load(.clientUpdate))
    }
}
