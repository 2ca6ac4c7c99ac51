import Algebra
import Ceremony
import Circuit
import DP
import Foundation
import Groth16
import NeuralNet
import XCTest
import ZKML

/// One seeded, bounded mutation test per decoder (issue 24): every mutant must be decoded into a
/// value or refused with a typed error, within a second, and what is accepted must be what it
/// claims (canonical, valid, not degenerate, or verifying only when unchanged). A trap would end
/// the test process. `scripts/hostile-campaign.py` runs the same mutations, many more of them,
/// through the command line and measures time and memory per process.
final class DecoderFuzzTests: XCTestCase {
    /// A small circuit with a key, a proof and the snarkjs files for it (built once).
    struct Statement {
        let r1cs: R1CS<Fr>
        let witness: [Fr]
        let key: ProvingKey
        let proof: Proof
        var inputs: [Fr] { Array(witness[1...r1cs.numPublic]) }
    }

    static let statement: Statement? = {
        let (r1cs, witness) = SquaringChain.make(constraints: 12, publicOutputs: 2)
        guard let key = try? Groth16.setupSnarkjsStyle(r1cs),
            let proof = try? Groth16.prove(key: key, r1cs: r1cs, witness: witness)
        else { return nil }
        return Statement(r1cs: r1cs, witness: witness, key: key, proof: proof)
    }()

    var statement: Statement { get throws { try XCTUnwrap(Self.statement, "the fixture statement did not build") } }

    // MARK: Algebra

    /// Points in every byte form: an accepted mutant is a valid point whose encoding is the
    /// mutant itself (one encoding per point, infinity included).
    func testPointEncodings() throws {
        let g1 = G1Jacobian.generator.multiplied(by: Fr(UInt64(1234))).affine
        let g2 = G2Jacobian.generator.multiplied(by: Fr(UInt64(5678))).affine
        let seeds: [(String, [UInt8], ([UInt8]) throws -> [UInt8])] = [
            ("G1 uncompressed", g1.uncompressed(), { try G1Affine(uncompressed: $0).uncompressed() }),
            ("G1 compressed", g1.compressed(), { try G1Affine(compressed: $0).compressed() }),
            ("G2 uncompressed", g2.uncompressed(), { try G2Affine(uncompressed: $0).uncompressed() }),
            ("G2 compressed", g2.compressed(), { try G2Affine(compressed: $0).compressed() }),
            ("G1 infinity", G1Affine.infinity.compressed(), { try G1Affine(compressed: $0).compressed() }),
            ("G2 infinity", G2Affine.infinity.uncompressed(), { try G2Affine(uncompressed: $0).uncompressed() }),
            ("proof", try statement.proof.ethereumBytes, { try Proof(ethereumBytes: $0).ethereumBytes }),
            (
                "committed proof", CommittedProof(proof: try statement.proof, commitment: g1, knowledge: g1).bytes,
                { try CommittedProof(bytes: $0).bytes }
            ),
            (
                "commitment opening", CommitmentOpening(commitment: g1, knowledge: g1, blinding: Fr(UInt64(99))).bytes,
                { try CommitmentOpening(bytes: $0).bytes }
            ),
        ]
        for (name, seed, roundTrip) in seeds {
            _ = fuzz(name, seed: seed, count: 1000) { mutant in
                let again = try roundTrip(mutant)
                XCTAssertEqual(again, mutant, "\(name): an accepted encoding is not the canonical one")
                return true
            }
        }
    }

    // MARK: Groth16

    /// snarkjs JSON: an accepted key is never degenerate and every accepted value re-encodes to
    /// itself; `verify` says valid only when key, proof and inputs decode to the originals.
    func testSnarkjsJSONAndVerify() throws {
        let s = try statement
        let vk = s.key.verifyingKey
        let files: [(String, Data)] = [
            ("vk", SnarkjsJSON.encode(vk)), ("proof", SnarkjsJSON.encode(s.proof)),
            ("public", SnarkjsJSON.encode(publicInputs: s.inputs)),
        ]
        for (name, seed) in files {
            let accepted = fuzz(name, seed: Array(seed), count: 800, json: true) { mutant in
                var key = vk, proof = s.proof, inputs = s.inputs
                switch name {
                case "vk":
                    key = try SnarkjsJSON.verifyingKey(Data(mutant), expectedPublicInputs: s.inputs.count)
                    XCTAssertNil(key.degeneracy)
                    XCTAssertEqual(try SnarkjsJSON.verifyingKey(SnarkjsJSON.encode(key)), key)
                case "proof":
                    proof = try SnarkjsJSON.proof(Data(mutant))
                    XCTAssertEqual(try SnarkjsJSON.proof(SnarkjsJSON.encode(proof)), proof)
                default:
                    inputs = try SnarkjsJSON.publicInputs(Data(mutant))
                }
                let valid = try Groth16.verify(key: key, proof: proof, publicInputs: inputs)
                if valid {
                    XCTAssertTrue(
                        key == vk && proof == s.proof && inputs == s.inputs, "\(name): a changed statement verified")
                }
                return true
            }
            XCTAssertGreaterThan(accepted, 0, "\(name): no mutant got past parsing; the test exercises nothing")
        }
    }

    /// The proving-key file, with the checksum recomputed for most mutants so they reach the
    /// fields behind it: whatever loads either fails to prove or gives a proof that verifies
    /// under the loaded key (and under the original key when its verifying key is unchanged).
    func testProvingKeyFile() throws {
        let s = try statement
        let seed = KeyFile.encode(s.key, r1cs: s.r1cs)
        var m = Mutator(seed: 7)
        var loaded = 0
        // Where the A query starts, to swap two of its points (each stays a valid point).
        let first = s.key.a[0].uncompressed()
        let aStart = try XCTUnwrap((0...(seed.count - 64)).first { Array(seed[$0..<($0 + 64)]) == first })
        for i in 0..<300 {
            var mutant = m.mutate(seed)
            if m.below(3) == 0 {
                let (p, q) = (aStart + 64 * m.below(s.key.a.count), aStart + 64 * m.below(s.key.a.count))
                mutant = seed
                let a = Array(mutant[p..<(p + 64)])
                mutant.replaceSubrange(p..<(p + 64), with: mutant[q..<(q + 64)])
                mutant.replaceSubrange(q..<(q + 64), with: a)
            }
            mutant = m.resealed(mutant)
            let start = Date()
            let decoded = try? KeyFile.decode(mutant)
            if decoded != nil { loaded += 1 }
            if let (key, r1cs) = decoded, let proof = try? Groth16.prove(key: key, r1cs: r1cs, witness: s.witness) {
                XCTAssertTrue(
                    try Groth16.verify(key: key.verifyingKey, proof: proof, publicInputs: s.inputs), "mutant \(i)")
                if key.verifyingKey == s.key.verifyingKey {
                    XCTAssertTrue(
                        try Groth16.verify(key: s.key.verifyingKey, proof: proof, publicInputs: s.inputs), "mutant \(i)"
                    )
                }
            }
            XCTAssertLessThan(Date().timeIntervalSince(start), 1, "mutant \(i)")
        }
        XCTAssertGreaterThan(loaded, 0, "no mutant got past the key file's checks; the test exercises nothing")
    }

    /// A committed circuit linked to itself on one wire: a commitment key and the link's pairs.
    func linkSetting() throws -> (CommitmentKey, [CommitmentLinkKey.Pair]) {
        let cs = ConstraintSystem<Fr>()
        let out = cs.allocatePublic("out", value: Fr(UInt64(9)))
        let y = cs.allocateCommitted("y", value: Fr(UInt64(3))), z = cs.allocateCommitted("z", value: Fr(UInt64(4)))
        cs.enforce(LinearCombination(y), LinearCombination(y), LinearCombination(out), "square")
        let r = cs.drawChallenge()
        let product = cs.allocatePrivate("rz", value: cs.value(r) * Fr(UInt64(4)))
        cs.enforce(LinearCombination(r), LinearCombination(z), LinearCombination(product), "rz")
        let r1cs = cs.r1cs()
        let commitment = try XCTUnwrap(try Groth16.setup(r1cs).commitment)
        let wires = try XCTUnwrap(r1cs.commitment?.wires)
        let pairs = try CommitmentLink.pairs(left: r1cs, right: r1cs, shared: [(left: wires[0], right: wires[0])])
        return (commitment, pairs)
    }

    /// The link key file (`LinkKeyFile`): a mutant is refused with a typed error or loads as a
    /// key that is either the original or fails `isWellFormed` against the commitment keys.
    func testLinkKeyFile() throws {
        let (commitment, pairs) = try linkSetting()
        let key = try CommitmentLink.developmentSetup(left: commitment, right: commitment, pairs: pairs)
        let seed = LinkKeyFile.encode(key)
        var m = Mutator(seed: 11)
        var loaded = 0
        for i in 0..<300 {
            let mutant = m.resealed(m.mutate(seed))
            let start = Date()
            if let decoded = try? LinkKeyFile.decode(mutant) {
                loaded += 1
                if decoded != key {
                    XCTAssertNotEqual(
                        try? CommitmentLink.isWellFormed(decoded, left: commitment, right: commitment), true,
                        "mutant \(i)")
                }
            }
            XCTAssertLessThan(Date().timeIntervalSince(start), 1, "mutant \(i)")
        }
        XCTAssertGreaterThan(loaded, 0, "no mutant got past the link key file's checks; the test exercises nothing")
    }

    /// A link ceremony state (`NNNN.link`) from two contributions: no mutant crashes or hangs
    /// the reader, and one that decodes to anything else fails the transcript's verification,
    /// or (a renamed contributor: names are not under the proofs) keeps the honest key and
    /// changes the contribution hashes, so the receipts no longer match.
    func testLinkCeremonyState() throws {
        let (commitment, pairs) = try linkSetting()
        let context = LinkCeremony.Context(left: commitment, right: commitment, pairs: pairs)
        let directory = NSTemporaryDirectory() + "verisplit-fuzz-link-\(UInt32.random(in: 0...UInt32.max))"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var transcript = LinkTranscript.load(directory)
        _ = try transcript.contribute(name: "a", context: context)
        _ = try transcript.contribute(name: "b", context: context)
        let path = directory + "/0002.link"
        let seed = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        let honest = try LinkStateFile.decode(seed, file: path)
        let honestHashes = try LinkTranscript.load(directory).verify(context: context).contributions.map(\.hash)
        var m = Mutator(seed: 12)
        var loaded = 0
        for i in 0..<200 {
            let mutant = m.resealed(m.mutate(seed))
            let start = Date()
            let decoded = try? LinkStateFile.decode(mutant, file: path)
            XCTAssertLessThan(Date().timeIntervalSince(start), 1, "mutant \(i)")
            if let decoded {
                loaded += 1
                if decoded != honest {
                    try Data(mutant).write(to: URL(fileURLWithPath: path))
                    if let accepted = try? LinkTranscript.load(directory).verify(context: context) {
                        XCTAssertEqual(accepted.key, honest.key, "mutant \(i)")
                        XCTAssertNotEqual(accepted.contributions.map(\.hash), honestHashes, "mutant \(i)")
                    }
                }
            }
        }
        XCTAssertGreaterThan(loaded, 0, "no mutant got past the link state's checks; the test exercises nothing")
    }

    /// snarkjs `.zkey`: the same property through the zkey reader (no checksum to get past).
    func testZkey() throws {
        let s = try statement
        let seed = try Zkey.write(s.key, r1cs: s.r1cs)
        _ = fuzz("zkey", seed: seed, count: 300) { mutant in
            let (key, r1cs) = try Zkey.read(mutant, allowInsecureTestKey: true)
            let proof = try Groth16.prove(key: key, r1cs: r1cs, witness: s.witness)
            XCTAssertTrue(try Groth16.verify(key: key.verifyingKey, proof: proof, publicInputs: s.inputs))
            return true
        }
    }

    /// A `.zkey` with VeriSplit's commitment sections (a circuit with a commitment to witness
    /// wires, key and update records from a two-contribution ceremony): an accepted mutant is the
    /// canonical encoding of what it decodes to.
    func testCommittedZkey() throws {
        let directory = NSTemporaryDirectory() + "verisplit-fuzz-zkey-\(UInt32.random(in: 0...UInt32.max))"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let cs = ConstraintSystem<Fr>()
        let x = cs.allocatePrivateInput("x", value: Fr(UInt64(3)))
        let square = cs.allocatePublic("square", value: Fr(UInt64(9)))
        let committed = cs.allocateCommitted("c", value: Fr(UInt64(9)))
        cs.enforce(LinearCombination(x), LinearCombination(x), LinearCombination(committed), "square")
        cs.enforceEqual(LinearCombination(committed), LinearCombination(square), "public")
        let r = cs.drawChallenge()
        let t = cs.allocatePrivate("t", value: cs.value(r) * Fr(UInt64(9)))
        cs.enforce(LinearCombination(r), LinearCombination(committed), LinearCombination(t), "blend")
        let r1cs = cs.r1cs()
        var transcript = try CeremonyTranscript.create(directory: directory, circuit: Circom.writeR1CS(r1cs))
        _ = try transcript.contribute(name: "a")
        _ = try transcript.contribute(name: "b", phase: 2)
        _ = try transcript.contribute(name: "c", phase: 2)
        let seed = try XCTUnwrap(try transcript.verify().zkey)
        _ = fuzz("committed zkey", seed: seed, count: 200) { mutant in
            let contents = try Zkey.parse(mutant, allowInsecureTestKey: true)
            XCTAssertNotNil(contents.key.commitment)
            let again = try Zkey.write(
                contents.key, r1cs: contents.r1cs, phase2: contents.phase2,
                commitmentUpdates: contents.commitmentUpdates)
            XCTAssertEqual(again, mutant, "an accepted committed .zkey is not its canonical encoding")
            return true
        }
    }

    // MARK: Circuit

    /// circom `.r1cs` and `.wtns`: what is accepted writes back to bytes that read back the same.
    func testCircomFiles() throws {
        let s = try statement
        _ = fuzz("r1cs", seed: Circom.writeR1CS(s.r1cs), count: 1000) { mutant in
            let r1cs = try Circom.readR1CS(mutant)
            let bytes = Circom.writeR1CS(r1cs)
            XCTAssertEqual(Circom.writeR1CS(try Circom.readR1CS(bytes)), bytes)
            return true
        }
        _ = fuzz("wtns", seed: Circom.writeWitness(s.witness), count: 1000) { mutant in
            let w = try Circom.readWitness(mutant)
            XCTAssertEqual(try Circom.readWitness(Circom.writeWitness(w)), w)
            return true
        }
    }

    // MARK: Ceremony

    /// `.ptau` files and receipts: decoded or refused, quickly.
    func testPtauAndReceipts() throws {
        let ptau = Ptau.write(PtauFile(powers: .initial(power: 4), ceremonyPower: 4, contributions: []))
        _ = fuzz("ptau", seed: ptau, count: 600) { mutant in
            let file = try Ptau.read(mutant)
            return file.powers.structureError() == nil
        }
        let receipt = ContributionReceipt(phase: 2, index: 1, name: "alice", hash: String(repeating: "ab", count: 32))
            .json()
        _ = fuzz("receipt", seed: Array(receipt), count: 800, json: true) { mutant in
            let r = try ContributionReceipt.read(Data(mutant))
            XCTAssertEqual(r.hash.count, 64)
            return true
        }
    }

    /// A ceremony whose state files are mutated, deleted or swapped never verifies with the last
    /// contributor's receipt.
    func testCeremonyTranscripts() throws {
        let dir = NSTemporaryDirectory() + "verisplit-hostile-ceremony-\(UInt32.random(in: 0...UInt32.max))"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (r1cs, _) = SquaringChain.make(constraints: 6, publicOutputs: 1)
        var t = try CeremonyTranscript.create(directory: dir, circuit: Circom.writeR1CS(r1cs))
        _ = try t.contribute(name: "a")
        let last = try t.contribute(name: "b", phase: 2)
        XCTAssertTrue(try CeremonyTranscript.load(dir).verify().contains(last))
        let files = ["phase1/0000.ptau", "phase1/0001.ptau", "phase2/0000.zkey", "phase2/0001.zkey", "circuit.r1cs"]
        let originals = try files.map { try Data(contentsOf: URL(fileURLWithPath: dir + "/" + $0)) }
        var m = Mutator(seed: 11)
        for i in 0..<60 {
            let k = m.below(files.count)
            let path = dir + "/" + files[k]
            let op = m.below(10)
            if op == 0 {
                try FileManager.default.removeItem(atPath: path)
            } else {
                let mutant = m.mutate(Array(originals[k]))
                if mutant == Array(originals[k]) { continue }
                try Data(mutant).write(to: URL(fileURLWithPath: path))
            }
            let start = Date()
            let contains = (try? CeremonyTranscript.load(dir).verify().contains(last)) ?? false
            XCTAssertFalse(contains, "mutant \(i) of \(files[k]) verified with the last receipt")
            XCTAssertLessThan(Date().timeIntervalSince(start), 2)
            try originals[k].write(to: URL(fileURLWithPath: path))
        }
        XCTAssertTrue(try CeremonyTranscript.load(dir).verify().contains(last))
    }

    // MARK: NeuralNet and DP

    /// IDX (plain and gzipped), CSV, safetensors with their privacy records, model specs.
    func testDataAndModelFiles() throws {
        let idx = Array(IDX.encodeUBytes((0..<96).map { UInt8($0) }, dimensions: [2, 3, 4, 4]))
        _ = fuzz("idx", seed: idx, count: 1000) { mutant in
            let a = try IDX.parse(Data(mutant))
            XCTAssertEqual(a.dimensions.reduce(1, *), a.values.count)
            return true
        }
        let gz: [UInt8] = [
            31, 139, 8, 0, 0, 0, 0, 0, 2, 3, 99, 96, 224, 96, 100, 96, 96, 96, 99, 96, 100, 250, 223,
            192, 14, 0, 253, 61, 255, 249, 14, 0, 0, 0,
        ]
        _ = fuzz("idx.gz", seed: gz, count: 1000) { mutant in
            let a = try IDX.parse(Data(mutant))
            XCTAssertEqual(a.dimensions.reduce(1, *), a.values.count)
            return true
        }
        let csv = Array("a,b,label\n0.5,1,2\n3,4.25,0\n-1,0,1\n".utf8)
        _ = fuzz("csv", seed: csv, count: 1000) { mutant in
            let d = try Dataset.csv(String(decoding: mutant, as: UTF8.self))
            XCTAssertEqual(d.features.shape[0], d.labels.count)
            return true
        }
        let plan = try DPSGDPlan.calibrate(targetEpsilon: 3, delta: 1e-5, datasetSize: 1000, batchSize: 50, epochs: 1)
        let record = DPSGDTrainer.record(
            plan: plan, options: DPSGDOptions(clippingNorm: 1), epsilonSpent: plan.epsilon,
            steps: plan.totalSteps, datasetSize: 1000)
        let model = SafeTensorsFile(
            tensors: [("fc.weight", Tensor(shape: [4, 3])), ("fc.bias", Tensor(shape: [4]))],
            metadata: record.metadata)
        _ = fuzz("safetensors", seed: Array(SafeTensors.encode(model)), count: 1000) { mutant in
            let file = try SafeTensors.decode(Data(mutant))
            if let r = try? PrivacyRecord(metadata: file.metadata) {
                XCTAssertTrue(r.epsilon > 0 && r.delta > 0 && r.delta < 1 && r.sigma > 0 && r.sigma.isFinite)
            }
            return true
        }
        let spec = try ModelSpec.resolve("cnn-small").jsonData()
        _ = fuzz("model spec", seed: Array(spec), count: 1000, json: true) { mutant in
            let s = try ModelSpec.parse(Data(mutant))
            XCTAssertEqual(try ModelSpec.parse(s.jsonData()), s)
            return true
        }
    }

    // MARK: ZKML

    /// Circuit specs: an accepted spec is within the size bound for every part.
    func testCircuitSpecs() throws {
        let seed = Array(
            """
            {"name": "split", "input": {"channels": 1, "height": 28, "width": 28},
             "client": {"out_channels": 2, "kernel": 7, "stride": 7}, "server": {"outputs": 10},
             "fraction_bits": 8, "value_bits": 24, "batch": 1, "loss": "softmax-cross-entropy",
             "learning_rate_shift": 5, "commitment": "poseidon-t17"}
            """.utf8)
        let accepted = fuzz("circuit spec", seed: seed, count: 1000, json: true) { mutant in
            let spec = try CircuitSpec.load(Data(mutant))
            for part in CircuitSpec.Part.allCases {
                XCTAssertLessThanOrEqual(spec.constraintBound(part), CircuitSpec.maxConstraintsPerPart)
            }
            return true
        }
        XCTAssertGreaterThan(accepted, 0)
    }
}

extension Mutator {
    /// For formats that end in a SHA-256 of the rest: 7 times in 10, the checksum of `mutant`
    /// recomputed, so the mutant reaches the checks behind it.
    mutating func resealed(_ mutant: [UInt8]) -> [UInt8] {
        guard below(10) < 7, mutant.count > 32 else { return mutant }
        return Array(mutant.dropLast(32)) + SHA256.hash(Array(mutant.dropLast(32)))
    }
}
