import Algebra
import ArgumentParser
import Ceremony
import Foundation
import Report

/// `verisplit ceremony ...`: a multi-party Groth16 setup (see `CeremonyTranscript`).
struct CeremonyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ceremony",
        abstract: "Multi-party Groth16 trusted setup: powers of tau (phase 1) and the circuit's delta (phase 2).",
        discussion: """
            Keys from a ceremony are safe if at least one contributor was honest and erased its \
            secrets. Typical flow: `new`, each party `contribute` (phase 1, then --phase 2), \
            `beacon`, anyone `verify`, then `export-keys`.
            """,
        subcommands: [New.self, Contribute.self, VerifyTranscript.self, Beacon.self, ExportKeys.self])

    struct New: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Start a ceremony for a circuit in a new directory.",
            discussion: """
                Without --ptau, phase 1 starts from the generators at the smallest power that fits \
                the circuit. With --ptau, a snarkjs .ptau is imported (its powers are checked for \
                consistency; snarkjs's own contribution proofs are not re-checked) and phase 2 starts.
                """)
        @Argument(help: "A circom .r1cs file (BN254).") var circuit: String
        @Option(help: "The ceremony directory to create.") var out: String
        @Option(help: "Import a snarkjs powers-of-tau file and start phase 2 from it.") var ptau: String?
        @Option(help: "Phase-1 power (log2 of the largest domain), if larger than the circuit needs.") var power: Int?

        func run() throws {
            let (bytes, imported) = (try readFile(circuit), try ptau.map { try readFile($0) })
            let t = try ceremonyStep {
                try CeremonyTranscript.create(
                    directory: out, circuit: bytes, power: power, ptau: imported, ptauName: ptau ?? "", progress: $0)
            }
            print(
                "created \(out): \(t.circuit.constraintCount) constraints; "
                    + (t.phase2States > 0 ? "phase 2 open (imported \(ptau ?? ""))" : "phase 1 open"))
        }
    }

    struct Contribute: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a contribution (fresh secrets from the OpenSSL CSPRNG, erased afterwards).",
            discussion: """
                Goes to the open phase; --phase 2 while phase 1 is open closes phase 1 and derives the \
                circuit's key first. Keep the receipt: `verify` lists contribution hashes, and a party can \
                refuse keys from a transcript that lacks its own.
                """)
        @Argument(help: "The ceremony directory.") var directory: String
        @Option(help: "Your name (recorded in the transcript, at most 64 bytes).") var name: String
        @Option(help: "1 or 2 (default: the open phase).") var phase: Int?
        @Option(help: "Write the receipt (JSON with the contribution hash) to this file.") var receipt: String?

        func run() throws {
            var t = try CeremonyTranscript.load(directory)
            let r = try ceremonyStep { try t.contribute(name: name, phase: phase, progress: $0) }
            print(r.text)
            if let receipt { print(try r.save(to: receipt)) }
        }
    }

    struct Beacon: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add the final public-randomness contribution to the open phase.",
            discussion: """
                The secrets are derived from the beacon hashed 2^N times with SHA-256 (as snarkjs \
                iterates), so anyone can recompute them. Use a value nobody knew before the last \
                contribution, e.g. a future block hash.
                """)
        @Argument(help: "The ceremony directory.") var directory: String
        @Option(help: "The beacon value in hex (1 to 255 bytes).") var beacon: String
        @Option(help: "log2 of the number of SHA-256 iterations (0...32).") var iterations: Int = 10
        @Option(help: "The name recorded for the beacon.") var name: String = "beacon"
        @Option(help: "Write the receipt to this file.") var receipt: String?

        func run() throws {
            guard let bytes = Hex.decode(beacon, allowPrefix: true) else {
                throw InputError("--beacon: not an even-length hex string")
            }
            var t = try CeremonyTranscript.load(directory)
            let r = try ceremonyStep {
                try t.applyBeacon(bytes, iterationsExponent: iterations, name: name, progress: $0)
            }
            print(r.text)
            if let receipt { print(try r.save(to: receipt)) }
        }
    }

    struct VerifyTranscript: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "verify",
            abstract:
                "Verify a ceremony transcript: exit 0 if sound, 1 if unsound (naming the contribution), 2 on bad input."
        )
        @Argument(help: "The ceremony directory.") var directory: String
        @Option(help: "Also check that this receipt's contribution is in the transcript (exit 1 if not).") var receipt:
            String?

        func run() throws {
            let t = try CeremonyTranscript.load(directory)
            let wanted = try receipt.map {
                try ContributionReceipt.read(Data(try readFile($0, limit: 1 << 16)), file: $0)
            }
            let checked = try ceremonyStep { try t.verify(progress: $0) }.check(receipt: wanted)
            print(checked.text)
            if !checked.holdsReceipt { throw ExitCode(1) }
        }
    }

    struct ExportKeys: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "export-keys",
            abstract:
                "Verify the transcript, then write KEYDIR/proving.key, verification_key.json and circuit_final.zkey.")
        @Argument(help: "The ceremony directory.") var directory: String
        @Option(help: "Output directory for the keys (default: keys/NAME, NAME the ceremony directory's name).")
        var out: String?

        func run() throws {
            let out = self.out ?? KeyDirectory.default(for: URL(fileURLWithPath: directory).standardizedFileURL.path)
            let t = try CeremonyTranscript.load(directory)
            print(try ceremonyStep { try t.verify(progress: $0) }.writeKeys(to: out))
        }
    }
}

/// Runs a ceremony step with a progress display on a terminal: an unsound transcript is a
/// refusal (exit 1), any other error bad input (exit 2).
private func ceremonyStep<T>(_ body: (@escaping CeremonyTranscript.Progress) throws -> T) throws -> T {
    let progress = TerminalProgress()
    do {
        let result = try body(progress.report)
        progress.finish()
        return result
    } catch let error as CeremonyError where error.isUnsound {
        throw Refusal("\(error)")
    }
}
