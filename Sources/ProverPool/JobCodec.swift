import Algebra
import Foundation
import Groth16

/// The byte layouts of a job row: a witness is its field elements, 32 bytes each, little-endian
/// (canonical: below the modulus); a proof is the 256-byte Ethereum layout (A, B, C uncompressed).
/// A job for a circuit with a commitment to witness wires carries the party's commitment opening
/// (`CommitmentOpening`: D, K and the blinding nu, 160 bytes) right after the witness in the same
/// column: it is as secret as the witness, so it is written, rewritten and erased with it.
public enum JobCodec {
    public static let elementBytes = 32

    public static func encodeWitness(_ witness: [Fr]) -> Data {
        var data = Data(capacity: witness.count * elementBytes)
        for value in witness { data.append(contentsOf: value.littleEndianBytes()) }
        return data
    }

    /// A committed circuit's job payload: the witness, then the opening.
    public static func encodeWitness(_ witness: [Fr], opening: CommitmentOpening) -> Data {
        var data = encodeWitness(witness)
        data.append(contentsOf: opening.bytes)
        return data
    }

    /// The witness and the opening of a committed circuit's job (see `decodeWitness` for the
    /// witness's checks; the opening's points are validated, nu must be below r).
    public static func decodeCommittedWitness(
        _ data: Data, wires: Int, publicCount: Int
    ) throws(JobDefect) -> (witness: [Fr], opening: CommitmentOpening) {
        let witnessBytes = wires * elementBytes
        guard data.count == witnessBytes + CommitmentOpening.byteCount else {
            throw .committedWitnessLength(bytes: data.count, expectedWires: wires)
        }
        let witness = try decodeWitness(data.prefix(witnessBytes), wires: wires, publicCount: publicCount)
        do { return (witness, try CommitmentOpening(bytes: [UInt8](data.suffix(CommitmentOpening.byteCount)))) } catch {
            throw .opening("\(error)")
        }
    }

    /// The witness of a job whose circuit has `wires` wires and `publicCount` public values.
    /// Checks the length before allocating, every element below the modulus, and wire 0 = 1.
    public static func decodeWitness(_ data: Data, wires: Int, publicCount: Int) throws(JobDefect) -> [Fr] {
        guard data.count == wires * elementBytes else {
            throw .witnessLength(bytes: data.count, expectedWires: wires)
        }
        guard publicCount >= 0, publicCount < wires else { throw .publicCount(publicCount, wires: wires) }
        var witness: [Fr] = []
        witness.reserveCapacity(wires)
        let bytes = [UInt8](data)
        for index in 0..<wires {
            let slice = bytes[(index * elementBytes)..<((index + 1) * elementBytes)]
            do { witness.append(try Fr(littleEndian: slice)) } catch { throw .nonCanonical(index: index) }
        }
        guard witness[0] == .one else { throw .firstWireNotOne }
        return witness
    }

    public static func decodeProof(_ data: Data) throws(JobDefect) -> Proof {
        guard data.count == 256 else { throw .proofLength(data.count) }
        do { return try Proof(ethereumBytes: [UInt8](data)) } catch { throw .proofPoint("\(error)") }
    }
}

/// Why a job row cannot be used as stored.
public enum JobDefect: Error, Equatable, CustomStringConvertible {
    case witnessLength(bytes: Int, expectedWires: Int)
    case publicCount(Int, wires: Int)
    case nonCanonical(index: Int)
    case firstWireNotOne
    case missingWitness
    case unknownPart(String)
    case unknownKey(hash: String, known: [String])
    case keyMismatch(String)
    case proofLength(Int)
    case proofPoint(String)
    /// A committed circuit's payload is the witness and a 160-byte opening.
    case committedWitnessLength(bytes: Int, expectedWires: Int)
    case opening(String)

    public var description: String {
        switch self {
        case .witnessLength(let bytes, let wires):
            return
                "the witness is \(bytes) bytes; the key's circuit has \(wires) wires of 32 bytes (\(wires * 32) bytes)"
        case .publicCount(let count, let wires): return "public count \(count) does not fit a circuit of \(wires) wires"
        case .nonCanonical(let index): return "witness element \(index) is not below the field modulus"
        case .firstWireNotOne: return "witness wire 0 must be the constant 1"
        case .missingWitness: return "the job has no witness (erased or never written)"
        case .unknownPart(let part): return "unknown circuit part \"\(part)\""
        case .unknownKey(let hash, let known):
            return
                "no proving key with verifying-key hash \(hash) on this worker (it has \(known.joined(separator: ", "))); start workers with the party's keys"
        case .keyMismatch(let reason): return reason
        case .proofLength(let count): return "a proof is 256 bytes, the row holds \(count)"
        case .proofPoint(let reason): return "the proof's points do not decode (\(reason))"
        case .committedWitnessLength(let bytes, let wires):
            return
                "the committed circuit's payload is \(bytes) bytes; expected \(wires) wires of 32 bytes and a \(CommitmentOpening.byteCount)-byte commitment opening (\(wires * 32 + CommitmentOpening.byteCount) bytes)"
        case .opening(let reason): return "the commitment opening does not decode (\(reason))"
        }
    }
}
