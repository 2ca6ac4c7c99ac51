import Algebra
import Circuit
import Dispatch

/// The figures of Benchmarks/commitment.md. Times are the best of a few runs (the least disturbed
/// on a shared machine), in the units their names say.
public enum CommitmentBenchmark {
    static func seconds(_ body: () -> Void) -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        body()
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }

    static func best(_ repetitions: Int, _ body: () -> Void) -> Double {
        (0..<max(1, repetitions)).map { _ in seconds(body) }.min() ?? .infinity
    }

    /// One circomlib-compatible 2-input hash (t = 3), in microseconds.
    public static func poseidonHashMicroseconds(iterations: Int = 20_000) throws(PoseidonError) -> Double {
        let p = try Poseidon(width: 3)
        var state: [Fr] = [.zero, .random(), .random()]
        let t = best(3) {
            for _ in 0..<iterations {
                state[0] = .zero
                p.permuteUnchecked(&state)
            }
        }
        precondition(!state[1].isZero || !state[2].isZero)
        return t / Double(iterations) * 1e6
    }

    /// One permutation of width t, in microseconds.
    public static func permutationMicroseconds(width: Int, iterations: Int = 2_000) throws(PoseidonError) -> Double {
        let p = try Poseidon(width: width)
        var state = (0..<width).map { _ in Fr.random() }
        let t = best(3) { for _ in 0..<iterations { p.permuteUnchecked(&state) } }
        return t / Double(iterations) * 1e6
    }

    /// Constraints of one permutation gadget, counted on a built circuit (random private inputs).
    public static func constraintsPerPermutation(width: Int) throws(PoseidonError) -> Int {
        let cs = ConstraintSystem<Fr>()
        let inputs = (0..<width).map { _ in LinearCombination<Fr>(cs.allocatePrivate("in", value: .random())) }
        _ = try cs.poseidonPermutation(inputs)
        return cs.constraintCount
    }

    /// Native `PoseidonCommitter` on `count` random values: seconds per commitment.
    public static func nativeCommitSeconds(count: Int, width: Int, repetitions: Int = 3) throws(PoseidonError) -> Double
    {
        let committer = try PoseidonCommitter(width: width)
        let values = (0..<count).map { _ in Fr.random() }
        var digest = Fr.zero
        let t = best(repetitions) { digest = committer.commit(values).commitment.value }
        precondition(!digest.isZero)
        return t
    }

    /// The opening gadget for `count` private values at width t, built once: constraints, seconds
    /// to build the circuit with its witness, seconds to check it, and whether it is satisfied.
    public static func circuitCommit(
        count: Int, width: Int
    ) throws(PoseidonError)
        -> (constraints: Int, buildSeconds: Double, checkSeconds: Double, satisfied: Bool)
    {
        let committer = try PoseidonCommitter(width: width)
        let (commitment, opening) = committer.commit((0..<count).map { _ in Fr.random() })
        let cs = ConstraintSystem<Fr>()
        let start = DispatchTime.now().uptimeNanoseconds
        let c = cs.allocatePublic("commitment", value: commitment.value)
        let values = opening.values.map { LinearCombination<Fr>(cs.allocatePrivate("w", value: $0)) }
        let salt = cs.allocatePrivate("salt", value: opening.salt)
        try cs.assertPoseidonOpening(
            commitment: LinearCombination(c), values: values,
            salt: LinearCombination(salt), width: width)
        let build = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        var satisfied = false
        let check = seconds { satisfied = cs.isSatisfied }
        return (cs.constraintCount, build, check, satisfied)
    }

    /// Pedersen on `count` values: seconds to derive the generators, seconds per commitment (MSM).
    public static func pedersen(count: Int) -> (deriveSeconds: Double, commitSeconds: Double) {
        var params = PedersenParameters(count: 0)
        let derive = seconds { params = PedersenParameters(count: count) }
        let values = (0..<count).map { _ in Fr.random() }
        let commit = best(3) { _ = try? params.commit(values) }
        return (derive, commit)
    }
}

extension CommitmentBenchmark {
    /// A circuit commitment whose witness does not satisfy its constraints (a bug, never input).
    public struct Unsatisfied: Error, CustomStringConvertible {
        public var description: String { "the circuit commitment's witness does not satisfy its constraints" }
    }

    /// `verisplit bench commitment`: Poseidon cost per width and the cost of committing the 50,176
    /// parameters of a Dense 784 -> 64 layer natively and (with `circuit`, minutes and several GiB)
    /// in a circuit.
    public static func table(circuit: Bool) throws -> BenchTable {
        var t = BenchTable(title: "Commitments (release build)")
        t.append("poseidon_t3_hash_us", try poseidonHashMicroseconds())
        for w in [2, 3, 5, 9, 17] {
            t.append("constraints_per_permutation_t\(w)", try constraintsPerPermutation(width: w))
        }
        let n = 50_176
        for w in [3, 17] {
            t.append("native_commit_\(n)_t\(w)_s", try nativeCommitSeconds(count: n, width: w))
        }
        let p = pedersen(count: n)
        t.append("pedersen_\(n)_generators_s", p.deriveSeconds)
        t.append("pedersen_\(n)_commit_s", p.commitSeconds)
        if circuit {
            let c = try circuitCommit(count: n, width: 17)
            guard c.satisfied else { throw Unsatisfied() }
            t.append("circuit_commit_\(n)_t17_constraints", c.constraints)
        }
        return t
    }
}
