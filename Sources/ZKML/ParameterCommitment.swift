import Algebra
import Circuit
import Commitment

/// The binding of a layer's fixed-point parameters to a public Poseidon commitment, shared by
/// every committed layer circuit (`QuantizedDense`, `QuantizedConv2d`) and the step circuits.
///
/// Every parameter is a signed B-bit value; the commitment is the Poseidon sponge of width 17
/// (commitment domain) over the parameters packed floor(253 / B) per field element (10 for
/// B = 24, see `PackingLayout`), followed by a private salt. In a circuit the range check of each
/// parameter yields its bits, and the packed elements are free linear combinations of them, so
/// the opening both bounds every parameter (an out-of-range weight would let a prover fit chosen
/// sums modulo r) and absorbs ten parameters per sponge element.
///
/// Cost in a circuit for n parameters: n (B + 1) constraints for the range checks, then
/// p = ceil((ceil(n / 10) + 1) / 16) permutations of 612 constraints, less 3 for each constant
/// input of the first one (its capacity and, for a short message, its zero padding), plus 1
/// equality with the public commitment.
public enum ParameterCommitment {
    /// The layout of a format's parameters: signed B-bit values, packed.
    public static func layout(_ format: FixedPointFormat) -> PackingLayout {
        PackingLayout(bits: format.valueBits, signed: true)
    }

    /// The commitment the owner of the parameters publishes; equal to the public output that
    /// `ConstraintSystem.committingParameters` and `StepCommitments` produce for the same
    /// parameters and salt. Throws when a parameter is outside the signed B-bit range.
    public static func commit(_ parameters: [Int64], format: FixedPointFormat, salt: Fr) throws(CommitmentError) -> Fr {
        let packed: [Fr]
        switch layout(format).pack(parameters, as: Fr.self) {
        case .success(let p): packed = p
        case .failure(let error): throw .outOfRange(error)
        }
        do {
            return try PoseidonCommitter().commit(PoseidonOpening(values: packed, salt: salt)).value
        } catch {
            throw .poseidon(error)
        }
    }

    /// Constraints of one opening of n parameters (range checks, sponge, equality).
    public static func constraintCount(parameters n: Int, format: FixedPointFormat) -> Int {
        let absorbed = layout(format).elementCount(n) + 1
        let permutations = (absorbed + 15) / 16
        let constantInputs = 1 + max(0, 16 - absorbed)
        return n * (format.valueBits + 1) + 612 * permutations - 3 * constantInputs + 1
    }
}

/// Why a commitment could not be made.
public enum CommitmentError: Error, Equatable, CustomStringConvertible {
    case outOfRange(PackingError)
    case poseidon(PoseidonError)

    public var description: String {
        switch self {
        case .outOfRange(let e): return "cannot commit: \(e)"
        case .poseidon(let e): return "cannot commit: \(e)"
        }
    }
}

extension ConstraintSystem where F == Fr {
    /// Range-checks the parameter values, packs them and proves that they and `salt` (a private
    /// input) open `commitment`. Soundness: each value is proven to be a signed B-bit integer, the
    /// packing is injective on that range, and the sponge output is pinned to the commitment, so a
    /// satisfying witness with other parameters is a Poseidon collision.
    public func openParameterCommitment(
        _ commitment: Variable, values: [LinearCombination<Fr>], salt: Fr,
        format: FixedPointFormat, _ name: String
    ) throws(CommitmentError) {
        let saltVariable = allocatePrivateInput("\(name).salt", value: salt)
        let packed = rangeCheckedPacking(values, layout: ParameterCommitment.layout(format), "\(name).range")
        do {
            try assertPoseidonOpening(
                commitment: LinearCombination(commitment), values: packed,
                salt: LinearCombination(saltVariable), "\(name).opening")
        } catch {
            throw .poseidon(error)
        }
    }

    /// Allocates the public commitment to `parameters` under `salt`, runs `body` (which
    /// synthesizes the layer and returns the private variables holding its parameters, in the
    /// same order as `parameters`), then proves that those variables and a private salt open
    /// the commitment, every parameter range-checked (`openParameterCommitment`).
    ///
    /// The commitment is allocated before the layer's own public outputs, so it is the first
    /// public output the layer adds. The salt must be fresh CSPRNG output (`Fr.random()`) for the
    /// commitment to hide the parameters. Extra cost: `ParameterCommitment.constraintCount`.
    public func committingParameters<Result>(
        _ parameters: [Int64], format: FixedPointFormat, salt: Fr, name: String,
        _ body: () -> (parameters: [Variable], result: Result)
    ) throws(CommitmentError) -> (commitment: Variable, result: Result) {
        let commitment = allocatePublic(
            "\(name).commitment",
            value: try ParameterCommitment.commit(parameters, format: format, salt: salt))
        let (variables, result) = body()
        precondition(
            variables.count == parameters.count,
            "the layer allocated \(variables.count) parameters, \(parameters.count) committed")
        try openParameterCommitment(
            commitment, values: variables.map { LinearCombination($0) }, salt: salt, format: format, name)
        return (commitment, result)
    }
}

/// The public commitments to a layer's parameters before and after one training step, shared by
/// the server step and the client updates: `init` allocates both public outputs (so callers fix
/// their position among the public signals), `open` later proves that the variables the step's
/// constraints use open the first and the updated parameters open the second, every value
/// range-checked on both sides (so weights stay signed B-bit values across the chain).
/// Extra cost: two openings (`ParameterCommitment.constraintCount`).
public struct StepCommitments {
    public let before: Variable
    public let after: Variable
    let saltBefore: Fr
    let saltAfter: Fr
    let format: FixedPointFormat

    public init(
        in cs: ConstraintSystem<Fr>, before parametersBefore: [Int64], after parametersAfter: [Int64],
        format: FixedPointFormat, saltBefore: Fr, saltAfter: Fr
    ) throws(CommitmentError) {
        before = cs.allocatePublic(
            "commitmentBefore",
            value: try ParameterCommitment.commit(parametersBefore, format: format, salt: saltBefore))
        after = cs.allocatePublic(
            "commitmentAfter",
            value: try ParameterCommitment.commit(parametersAfter, format: format, salt: saltAfter))
        self.saltBefore = saltBefore
        self.saltAfter = saltAfter
        self.format = format
    }

    public func open(
        in cs: ConstraintSystem<Fr>, before valuesBefore: [LinearCombination<Fr>],
        after valuesAfter: [LinearCombination<Fr>]
    ) throws(CommitmentError) {
        try cs.openParameterCommitment(before, values: valuesBefore, salt: saltBefore, format: format, "before")
        try cs.openParameterCommitment(after, values: valuesAfter, salt: saltAfter, format: format, "after")
    }
}
