import Algebra
import ArgumentParser
import Circuit
import Foundation
import Groth16

/// A failure the user can act on: the root prints it as one line, exit code 2 (bad input).
struct InputError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// `Files.read`: the whole file, its size checked against `limit` before allocation.
func readFile(_ path: String, limit: Int = 8 << 30, why: String? = nil) throws -> [UInt8] {
    try Files.read(path, limit: limit, why: why)
}

func writeFile(_ path: String, _ bytes: some DataProtocol) throws { try Files.write(path, bytes) }

/// The repository's `keys/` directory (see keys/README.md): where commands that write keys put
/// them unless told otherwise, one subdirectory per circuit or spec.
enum KeyDirectory {
    static let root = "keys"

    /// keys/NAME for a circuit file or spec path: its file name without the extension.
    static func `default`(for path: String) -> String {
        let name = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        return root + "/" + (name.isEmpty ? "default" : name)
    }
}

struct R1CSCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "r1cs", abstract: "Inspect and lint circom .r1cs files.", subcommands: [Info.self, Lint.self])

    struct Info: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Counts of constraints, wires, public and private inputs.")
        @Argument(help: "A circom .r1cs file (BN254).") var file: String
        @Flag(help: "Print one JSON object.") var json = false

        func run() throws {
            let r1cs = try Circom.readR1CS(try readFile(file), file: file)
            print(r1cs.summary(title: file).rendered(json: json))
        }
    }

    struct Lint: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Static under-constraint analysis: outputs the inputs do not determine, unbounded private inputs.",
            discussion: """
                Starts from the inputs the header declares (public and private inputs) and propagates which \
                wires the constraints determine uniquely: linear equations, products, bit decompositions \
                (including the rescale pattern q * 2^S + r with both range-checked), IsZero and Euclidean \
                division. Reports every public output and intermediate wire it cannot prove unique, wires in \
                no constraint, and private inputs read as integers without a range check. Exit status: 0 \
                clean, 1 findings, 2 bad input.
                """)
        @Argument(help: "A circom .r1cs file (BN254).") var file: String
        @Option(help: "The circuit's circom .sym file, to name wires in the report.") var sym: String?
        @Flag(help: "Print one JSON object with a `findings` list.") var json = false

        func run() throws {
            let report = try R1CSLinter<Fr>.lint(file: file, sym: sym)
            print(json ? report.json(file: file) : report.text(file: file))
            if !report.isClean { throw ExitCode(1) }
        }
    }
}

struct Setup: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Groth16 setup for a circuit: writes DIR/proving.key and DIR/verification_key.json.",
        discussion: """
            The toxic waste comes from the OpenSSL CSPRNG and is erased after use. A key made by \
            one party alone lets that party forge proofs: for keys two parties must trust, use a \
            ceremony.
            """)
    @Argument(help: "A circom .r1cs file (BN254).") var circuit: String
    @Option(help: "Output directory (default: keys/NAME, NAME the circuit file's name without .r1cs).") var out: String?

    func run() throws {
        print(try ProofFiles.setup(circuit: circuit, out: out ?? KeyDirectory.default(for: circuit)))
    }
}

struct Prove: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Prove a witness with a proving key.")
    @Option(help: "proving.key from `verisplit setup`, or a snarkjs Groth16 .zkey.") var key: String
    @Flag(help: "Accept a .zkey with no phase-2 contribution (anyone can forge proofs for it; tests only).")
    var allowInsecureTestKey = false
    @Option(help: "A circom .wtns witness.") var witness: String
    @Option(help: "Where to write proof.json (snarkjs format).") var proof: String = "proof.json"
    @Option(name: .customLong("public"), help: "Where to write public.json.") var publicPath: String = "public.json"
    @Option(help: "Also write the 256-byte Ethereum layout as hex to this file.") var eth: String?

    func run() throws {
        do {
            print(
                try ProofFiles.prove(
                    key: key, witness: witness, proof: proof, publicInputs: publicPath, eth: eth,
                    allowInsecure: allowInsecureTestKey))
        } catch Groth16Error.proofRejectedByOwnKey {
            // The key is invalid (its proofs do not verify), not merely unreadable: exit 1.
            throw Refusal("\(key): \(Groth16Error.proofRejectedByOwnKey)")
        }
    }
}

struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Verify a Groth16 proof: exit 0 if valid, 1 if invalid, 2 on bad input.")
    @Option(help: "verification_key.json (snarkjs format).") var vk: String
    @Option(help: "proof.json (snarkjs format).") var proof: String
    @Option(name: .customLong("public"), help: "public.json.") var publicPath: String

    func run() throws {
        if try SnarkjsJSON.verifyFiles(verifyingKey: vk, proof: proof, publicInputs: publicPath) {
            print("valid")
        } else {
            print("invalid: the pairing check failed (the proof does not match this key and these public inputs)")
            throw ExitCode(1)
        }
    }
}

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Export keys to other ecosystems.", subcommands: [Solidity.self, ZkeyExport.self])

    struct Solidity: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a Solidity Groth16 verifier (EIP-196/197 precompiles) for a verifying key.")
        @Option(help: "verification_key.json (snarkjs format).") var vk: String
        @Option(help: "Output .sol file.") var out: String = "Verifier.sol"

        func run() throws {
            let limit = SnarkjsJSON.maxVerifyingKeyBytes(publicInputs: SolidityVerifier.maxPublicInputs)
            let why = "the Solidity export supports at most \(SolidityVerifier.maxPublicInputs) public inputs"
            let key = try SnarkjsJSON.verifyingKey(Data(try readFile(vk, limit: limit, why: why)), file: vk)
            try writeFile(out, Data(try SolidityVerifier.render(key).utf8))
            print("wrote \(out) (\(key.publicInputCount) public inputs)")
        }
    }

    struct ZkeyExport: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "zkey",
            abstract: "Write a snarkjs .zkey from a key in snarkjs form (an imported .zkey or a ceremony's output).")
        @Option(help: "The proving key (.zkey or proving.key in snarkjs H form).") var key: String
        @Option(help: "Output .zkey file.") var out: String

        func run() throws {
            let (pk, r1cs) = try ProvingKeyFile.load(try readFile(key), file: key)
            try writeFile(out, try Zkey.write(pk, r1cs: r1cs))
            print("wrote \(out)")
        }
    }
}
