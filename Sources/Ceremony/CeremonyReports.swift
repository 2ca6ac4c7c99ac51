import Algebra
import Foundation
import Groth16

extension VerifiedCeremony {
    /// What `verisplit ceremony verify` prints for a sound transcript: imported phase-1 names,
    /// every contribution with its hash, the verifying key's fingerprint, the count.
    public var text: String {
        var lines: [String] = []
        if !importedPhase1Contributions.isEmpty {
            lines.append(
                "imported phase-1 contributions (powers checked, snarkjs proofs not re-checked): "
                    + importedPhase1Contributions.map { $0.isEmpty ? "(unnamed)" : $0 }.joined(separator: ", "))
        }
        for c in contributions {
            lines.append("phase \(c.phase) #\(c.index) \(c.name)\(c.isBeacon ? " [beacon]" : "") \(c.hash)")
        }
        if let verifyingKey { lines.append("verifying key fingerprint: \(Self.fingerprint(verifyingKey))") }
        lines.append("sound: \(contributions.count) contributions verified")
        return lines.joined(separator: "\n")
    }

    /// Phase 2 has no contribution yet: delta is the generator and anyone could forge proofs.
    public struct NoPhase2Contribution: Error, CustomStringConvertible {
        public var description: String {
            "phase 2 has no contribution yet: delta is the generator and anyone could forge proofs"
        }
    }

    /// The ceremony's keys as the key files: `proving.key`, `verification_key.json` and
    /// `circuit_final.zkey` in `directory`. Refused while phase 2 has no contribution.
    public func keyFiles() throws -> [(name: String, bytes: [UInt8])] {
        guard let key = provingKey, let zkey, phase2ContributionCount > 0 else { throw NoPhase2Contribution() }
        return [
            ("proving.key", KeyFile.encode(key, r1cs: circuit)),
            ("verification_key.json", Array(SnarkjsJSON.encode(key.verifyingKey))), ("circuit_final.zkey", zkey),
        ]
    }
}

extension ContributionReceipt {
    /// The line a contributor sees: phase, index, name and the contribution hash.
    public var text: String { "phase \(phase) contribution #\(index) (\(name)): \(hash)" }
}

extension VerifiedCeremony {
    /// `ceremony verify`'s answer: the transcript's text and, given this party's receipt,
    /// whether the transcript holds that contribution (a line saying so when it does not).
    public func check(receipt wanted: ContributionReceipt?) -> (text: String, holdsReceipt: Bool) {
        guard let wanted, !contains(wanted) else { return (text, true) }
        return (
            text + "\nthe transcript does not contain receipt phase \(wanted.phase) #\(wanted.index) \(wanted.hash)",
            false
        )
    }

    /// `ceremony export-keys`: writes the key files (`keyFiles`) to `directory` and returns
    /// the lines to print (what was written, the verifying key's fingerprint).
    public func writeKeys(to directory: String) throws -> String {
        for file in try keyFiles() { try Files.write(directory + "/" + file.name, file.bytes) }
        return """
            wrote \(directory)/proving.key, verification_key.json, circuit_final.zkey
            verifying key fingerprint: \(verifyingKey.map(Self.fingerprint) ?? "")
            """
    }
}

extension ContributionReceipt {
    /// Writes the receipt (JSON) to `path`; returns the line saying so.
    public func save(to path: String) throws -> String {
        try Files.write(path, json())
        return "wrote receipt \(path)"
    }
}
