import Algebra
import Ceremony
import Circuit
import Foundation
import Groth16
import ZKML

/// Keys for a split session from multi-party ceremonies, one per proved part, kept as
/// `ROOT/client`, `ROOT/server` and `ROOT/client-update` (each a `verisplit ceremony`
/// directory). Whoever ran a single-party setup could forge proofs; a ceremony is safe if one
/// contributor was honest. Each party therefore contributes to every part and refuses keys whose
/// transcript lacks its own contribution: then the keys are safe for it, whatever the other
/// side did.
public enum SplitCeremony {
    /// Starts the three ceremonies for `spec` under `root` (phase 1 from the generators at the
    /// smallest power that fits each circuit, or phase 2 at once from an imported `.ptau`).
    public static func create(spec: CircuitSpec, root: URL, ptau: [UInt8]? = nil) throws {
        let circuits = try SplitKeys.circuits(for: spec)
        for part in CircuitSpec.Part.allCases {
            guard let r1cs = circuits[part] else { continue }
            _ = try CeremonyTranscript.create(directory: root.appendingPathComponent(part.rawValue).path,
                                              circuit: Circom.writeR1CS(r1cs), ptau: ptau)
        }
    }

    /// Verifies each part's ceremony in full, checks that it holds one of `receipts` (this
    /// party's own contributions) and that its circuit is the spec's, and returns the keys the
    /// ceremonies yield. Throws, naming the part, when a transcript is unsound, has no phase-2
    /// contribution yet, lacks this party's contribution or was made for another circuit.
    public static func keys(root: URL, spec: CircuitSpec, receipts: [ContributionReceipt],
                            progress: @escaping (String) -> Void = { _ in }) throws -> SplitKeys {
        guard !receipts.isEmpty else {
            throw SplitError.invalidArgument("give this party's ceremony receipts (--receipt FILE for each part it contributed to)")
        }
        let expected = try SplitKeys.circuits(for: spec)
        func load(_ part: CircuitSpec.Part) throws -> PartKey {
            let directory = root.appendingPathComponent(part.rawValue).path
            progress("verifying the \(part.rawValue) ceremony")
            let verified = try CeremonyTranscript.load(directory).verify()
            guard let key = verified.provingKey else {
                throw SplitError.file(path: directory, reason: "the ceremony has no phase-2 contribution yet: its keys would let anyone forge proofs")
            }
            guard receipts.contains(where: verified.contains) else {
                throw SplitError.file(path: directory, reason: "the ceremony lacks this party's contribution (none of its receipts is in the transcript): refusing its keys")
            }
            guard let circuit = expected[part], Groth16.circuitHash(circuit) == Groth16.circuitHash(verified.circuit) else {
                throw SplitError.file(path: directory, reason: "the ceremony was run for another circuit than the spec's \(part.rawValue) part")
            }
            return PartKey(part: part, provingKey: key, r1cs: verified.circuit)
        }
        return SplitKeys(forward: try load(.client), server: try load(.server), update: try load(.clientUpdate))
    }
}
