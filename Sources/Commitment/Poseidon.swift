import Algebra

/// The Poseidon permutation and circomlib's Poseidon hash over BN254's Fr (native).
///
/// This is the plain (unoptimized) permutation of the reference: per round add the round's
/// constants, apply x^5 to every element (full rounds: the first and last R_F / 2) or to element 0
/// only (the R_P partial rounds in the middle), then multiply by the MDS matrix. circomlib's
/// circuit uses an equivalent sparse-matrix form with transformed constants; the outputs are the
/// same (tested for every width).
///
/// Cost: (R_F + R_P) * t^2 multiplications for the linear layers plus 3 * (R_F * t + R_P) for the
/// S-boxes; for t = 3 about 830 Fr multiplications. Wide states take the partial rounds in the
/// compiled form of the circuit gadget (`PoseidonCircuitPlan`: every partial S-box input and the
/// state after them as affine functions of the S-box outputs so far), about
/// R_P (t + R_P / 2) + t (t + R_P) multiplications instead of R_P t^2: for t = 17, 4,900 instead
/// of 19,700, the permutation about 2.9 times faster. Narrow states keep the plain rounds (for
/// t = 3 the plain form is cheaper).
public struct Poseidon: Sendable {
    public let parameters: PoseidonParameters
    /// The compiled partial rounds, when they are cheaper than the plain ones (wide states).
    let plan: PoseidonCircuitPlan?

    public init(width: Int) throws(PoseidonError) {
        self.init(parameters: try PoseidonParameters.forWidth(width))
    }

    public init(parameters: PoseidonParameters) {
        self.parameters = parameters
        plan = Self.compiledIsCheaper(parameters) ? ParameterCache.shared.plan(for: parameters) : nil
    }

    /// Whether the compiled partial rounds cost fewer multiplications than R_P plain rounds.
    static func compiledIsCheaper(_ p: PoseidonParameters) -> Bool {
        let t = p.width, rp = p.partialRounds
        let compiled = rp * t + rp * (rp + 1) / 2 + t * (t + rp + 1)
        return compiled < rp * t * t
    }

    public var width: Int { parameters.width }

    /// Applies the permutation to `state` (length t) in place.
    public func permute(_ state: inout [Fr]) throws(PoseidonError) {
        guard state.count == width else { throw .wrongStateLength(expected: width, got: state.count) }
        permuteUnchecked(&state)
    }

    /// The reference rounds (one MDS product per round) whatever the width: the oracle the
    /// compiled partial rounds are tested against.
    public func permuteReference(_ state: inout [Fr]) throws(PoseidonError) {
        guard state.count == width else { throw .wrongStateLength(expected: width, got: state.count) }
        permutePlain(&state)
    }

    @inline(__always)
    static func sbox(_ x: Fr) -> Fr {
        let x2 = x.squared()
        return x2.squared() * x
    }

    /// The permutation; `state.count == width` is the caller's responsibility.
    func permuteUnchecked(_ state: inout [Fr]) {
        if let plan {
            permuteCompiled(&state, plan: plan)
        } else {
            permutePlain(&state)
        }
    }

    /// The permutation with the partial rounds compiled (the same schedule as the gadget
    /// `ConstraintSystem.poseidonPermutation`, on values): full rounds, then each partial S-box
    /// input as a dot product over the basis (the last full round's S-box outputs, the partial
    /// S-box outputs so far, 1), the state after the partial rounds the same way, full rounds.
    func permuteCompiled(_ state: inout [Fr], plan: PoseidonCircuitPlan) {
        let t = width, half = parameters.fullRounds / 2, rp = parameters.partialRounds
        let rc = parameters.roundConstants, m = parameters.mds
        func fullRound(_ s: inout [Fr], round: Int, constants: Bool, linear: Bool) {
            if linear {
                var next = [Fr](repeating: .zero, count: t)
                for i in 0..<t {
                    var acc = constants ? rc[round * t + i] : Fr.zero
                    for j in 0..<t { acc += m[i * t + j] * s[j] }
                    next[i] = acc
                }
                s = next
            } else if constants {
                for i in 0..<t { s[i] += rc[round * t + i] }
            }
        }
        func dot(_ coefficients: [Fr], _ basis: [Fr]) -> Fr {
            var acc = coefficients[basis.count]
            for k in 0..<basis.count { acc += coefficients[k] * basis[k] }
            return acc
        }
        var y = state
        fullRound(&y, round: 0, constants: true, linear: false)
        for i in 0..<t { y[i] = Poseidon.sbox(y[i]) }
        for r in 1..<half {
            fullRound(&y, round: r, constants: true, linear: true)
            for i in 0..<t { y[i] = Poseidon.sbox(y[i]) }
        }
        var basis = y
        basis.reserveCapacity(t + rp)
        for r in 0..<rp { basis.append(Poseidon.sbox(dot(plan.partialInputs[r], basis))) }
        y = plan.stateAfterPartial.map { dot($0, basis) }
        let secondHalf = half + rp
        fullRound(&y, round: secondHalf, constants: true, linear: false)
        for i in 0..<t { y[i] = Poseidon.sbox(y[i]) }
        for r in 1..<half {
            fullRound(&y, round: secondHalf + r, constants: true, linear: true)
            for i in 0..<t { y[i] = Poseidon.sbox(y[i]) }
        }
        fullRound(&y, round: 0, constants: false, linear: true)
        state = y
    }

    /// The reference rounds, one MDS product per round.
    func permutePlain(_ state: inout [Fr]) {
        let t = width
        let halfFull = parameters.fullRounds / 2
        let rounds = parameters.rounds
        parameters.roundConstants.withUnsafeBufferPointer { rc in
            parameters.mds.withUnsafeBufferPointer { m in
                state.withUnsafeMutableBufferPointer { s in
                    withUnsafeTemporaryAllocation(of: Fr.self, capacity: t) { tmp in
                        for r in 0..<rounds {
                            let base = r * t
                            for i in 0..<t { s[i] = s[i] + rc[base + i] }
                            if r < halfFull || r >= rounds - halfFull {
                                for i in 0..<t { s[i] = Poseidon.sbox(s[i]) }
                            } else {
                                s[0] = Poseidon.sbox(s[0])
                            }
                            for i in 0..<t {
                                var acc = m[i * t] * s[0]
                                for j in 1..<t { acc = acc + m[i * t + j] * s[j] }
                                tmp[i] = acc
                            }
                            for i in 0..<t { s[i] = tmp[i] }
                        }
                    }
                }
            }
        }
    }

    /// circomlib's `poseidon(inputs)`: width t = inputs.count + 1, state [0, inputs...], output
    /// element 0 of the permuted state. Accepts 1...16 inputs. Not hiding; collision resistant for
    /// inputs of one fixed length (different lengths use different widths, hence different
    /// constants).
    public static func hash(_ inputs: [Fr]) throws(PoseidonError) -> Fr {
        guard (1...16).contains(inputs.count) else { throw .unsupportedInputCount(inputs.count) }
        let p = try Poseidon(width: inputs.count + 1)
        var state = [Fr.zero] + inputs
        p.permuteUnchecked(&state)
        return state[0]
    }
}

/// A Poseidon sponge for vectors of any length (native). Not circomlib's construction (circomlib
/// has none for long inputs); documented here so a circuit elsewhere can reproduce it.
///
/// - State: t elements; element 0 is the capacity, elements 1...t-1 the rate (r = t - 1).
/// - Domain separation and padding: the capacity starts as `domain * 2^64 + n`, where n is the
///   message length (n < 2^64) and `domain` a tag (`PoseidonSponge.Domain`). The message is cut
///   into ceil(n / r) blocks (at least one), the last zero-padded. Because the length sits in the
///   capacity, zero padding is injective for each length, and messages of different lengths or
///   domains start from different states; the tags are nonzero, so no sponge state starts like
///   circomlib's `poseidon` (capacity 0).
/// - Absorb: each block is added to the rate, then the permutation runs.
/// - Output: rate element 1 after the last permutation (one field element).
///
/// Cost: ceil(n / r) permutations. In a circuit (see `ConstraintSystem.poseidonSponge`), one
/// permutation costs 3 * (8t + R_P) constraints, so per absorbed element 3 * (8t + R_P) / (t - 1):
/// 121.5 at t = 3, 38.25 at t = 17 (the default, the cheapest width in constraints).
public struct PoseidonSponge: Sendable {
    /// Domain tags for the capacity's initial value.
    public struct Domain: Hashable, Sendable {
        public let tag: UInt64
        public init(tag: UInt64) { self.tag = tag }
        /// A plain hash of a vector.
        public static let hash = Domain(tag: 1)
        /// A hiding commitment (the message ends with the salt).
        public static let commitment = Domain(tag: 2)
    }

    public let permutation: Poseidon
    /// The cheapest width per absorbed element in constraints (38.25 per element).
    public static let defaultWidth = 17

    public init(width: Int = PoseidonSponge.defaultWidth) throws(PoseidonError) {
        permutation = try Poseidon(width: width)
    }

    public var width: Int { permutation.width }
    public var rate: Int { permutation.width - 1 }

    /// The capacity's initial value: domain * 2^64 + length.
    public static func initialCapacity(length: Int, domain: Domain) -> Fr {
        var shift = Fr.one
        for _ in 0..<64 { shift = shift.doubled() }
        return Fr(domain.tag) * shift + Fr(UInt64(length))
    }

    /// Number of permutations for a message of `length` elements.
    public func permutationCount(length: Int) -> Int { max(1, (length + rate - 1) / rate) }

    /// The sponge hash of `message` in `domain`.
    public func hash(_ message: [Fr], domain: Domain = .hash) -> Fr {
        let t = width, r = rate
        var state = [Fr](repeating: .zero, count: t)
        state[0] = Self.initialCapacity(length: message.count, domain: domain)
        let blocks = permutationCount(length: message.count)
        for b in 0..<blocks {
            let start = b * r
            for i in 0..<r where start + i < message.count { state[1 + i] += message[start + i] }
            permutation.permuteUnchecked(&state)
        }
        return state[1]
    }
}
