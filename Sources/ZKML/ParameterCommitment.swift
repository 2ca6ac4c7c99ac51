import Algebra
import Circuit
import Commitment

/// The binding of a layer's fixed-point parameters to a public Poseidon commitment, shared by
/// every committed layer circuit (`QuantizedDense`, `QuantizedConv2d`).
///
/// The commitment is the Poseidon sponge of width 17 (commitment domain) over the parameters,
/// as field elements in the layer's own order, followed by a private salt (see
/// `PoseidonCommitment`). Cost in a circuit for n parameters: p = ceil((n + 1) / 16) permutations
/// of 612 constraints, less 3 for the constant capacity of the first one, plus 1 equality with
/// the public commitment: 612p - 2 constraints. Natively the same p permutations.
public enum ParameterCommitment {
    /// The commitment the owner of the parameters publishes; equal to the public input that
    /// `ConstraintSystem.committingParameters` allocates for the same parameters and salt.
    public static func commit(_ parameters: [Int64], salt: Fr) throws(PoseidonError) -> Fr {
        try PoseidonCommitter().commit(PoseidonOpening(values: parameters.map { Fr($0) }, salt: salt)).value
    }
}

extension ConstraintSystem where F == Fr {
    /// Allocates the public commitment to `parameters` under `salt`, runs `body` (which
    /// synthesizes the layer and returns the private variables holding its parameters, in the
    /// same order as `parameters`), then proves that those variables and a private salt open
    /// the commitment.
    ///
    /// Soundness: the opening gadget pins the variables the layer's constraints use to the
    /// committed values, so a satisfying witness with any other parameter is a Poseidon
    /// collision. The commitment is allocated before the layer's own public signals, so it is
    /// the first public input the layer adds. The salt must be fresh CSPRNG output (`Fr.random()`)
    /// for the commitment to hide the parameters. Extra cost: 612 * ceil((n + 1) / 16) - 2
    /// constraints for n parameters.
    public func committingParameters<Result>(
        _ parameters: [Int64], salt: Fr, name: String,
        _ body: () -> (parameters: [Variable], result: Result)
    ) throws(PoseidonError) -> (commitment: Variable, result: Result) {
        let commitment = allocatePublic("\(name).commitment", value: try ParameterCommitment.commit(parameters, salt: salt))
        let (variables, result) = body()
        precondition(variables.count == parameters.count, "the layer allocated \(variables.count) parameters, \(parameters.count) committed")
        let saltVariable = allocatePrivate("\(name).salt", value: salt)
        try assertPoseidonOpening(commitment: LinearCombination(commitment), values: variables.map { LinearCombination($0) },
                                  salt: LinearCombination(saltVariable), "\(name).opening")
        return (commitment, result)
    }
}

/// The public commitments to a layer's parameters before and after one training step, shared by
/// the server step and the client updates: `init` allocates both public inputs (so callers fix
/// their position among the public signals), `open` later proves that the variables the step's
/// constraints use open the first and the updated parameters open the second.
/// Extra cost: two sponges of 612 * ceil((n + 1) / 16) - 2 constraints for n parameters.
public struct StepCommitments {
    public let before: Variable
    public let after: Variable
    let saltBefore: Fr
    let saltAfter: Fr

    public init(in cs: ConstraintSystem<Fr>, before parametersBefore: [Int64], after parametersAfter: [Int64],
                saltBefore: Fr, saltAfter: Fr) throws(PoseidonError) {
        before = cs.allocatePublic("commitmentBefore", value: try ParameterCommitment.commit(parametersBefore, salt: saltBefore))
        after = cs.allocatePublic("commitmentAfter", value: try ParameterCommitment.commit(parametersAfter, salt: saltAfter))
        self.saltBefore = saltBefore
        self.saltAfter = saltAfter
    }

    public func open(in cs: ConstraintSystem<Fr>, before valuesBefore: [LinearCombination<Fr>],
                     after valuesAfter: [LinearCombination<Fr>]) throws(PoseidonError) {
        let saltB = cs.allocatePrivate("saltBefore", value: saltBefore)
        let saltA = cs.allocatePrivate("saltAfter", value: saltAfter)
        try cs.assertPoseidonOpening(commitment: LinearCombination(before), values: valuesBefore,
                                     salt: LinearCombination(saltB), "openBefore")
        try cs.assertPoseidonOpening(commitment: LinearCombination(after), values: valuesAfter,
                                     salt: LinearCombination(saltA), "openAfter")
    }
}
