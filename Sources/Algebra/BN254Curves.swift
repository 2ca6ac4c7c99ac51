/// BN254 G1: y^2 = x^3 + 3 over Fq, generator (1, 2), cofactor 1.
public enum G1Parameters: CurveParameters {
    public typealias BaseField = Fq
    @inlinable public static var b: Fq { Fq(UInt64(3)) }
    @inlinable public static var generatorX: Fq { Fq.one }
    @inlinable public static var generatorY: Fq { Fq(UInt64(2)) }
    @inlinable public static var hasCofactorOne: Bool { true }
    public static func isInPrimeOrderSubgroup(_ point: AffinePoint<G1Parameters>) -> Bool { true }
    public static var name: String { "G1" }
}

/// BN254 G2: the sextic D-twist y^2 = x^3 + 3/(9+u) over Fq2, with the standard generator
/// (EIP-197). Its cofactor is not 1, so points from outside need the subgroup check.
public enum G2Parameters: CurveParameters {
    public typealias BaseField = Fq2

    public static let b: Fq2 = {
        guard let inv = Fq2(Fq(UInt64(9)), Fq.one).inverse() else { preconditionFailure("9+u is nonzero") }
        return Fq2(Fq(UInt64(3)), .zero) * inv
    }()

    public static let generatorX = Fq2(
        Fq(reducing: BigInt("10857046999023057135944570762232829481370756359578518086990519993285655852781")!),
        Fq(reducing: BigInt("11559732032986387107991004021392285783925812861821192530917403151452391805634")!))
    public static let generatorY = Fq2(
        Fq(reducing: BigInt("8495653923123431417604973247489272438418190587263600148770280649306958101930")!),
        Fq(reducing: BigInt("4082367875863433681332203403145435568316851327593401208105741076214120093531")!))

    @inlinable public static var hasCofactorOne: Bool { false }
    public static var name: String { "G2" }

    /// xi^((q-1)/3) and xi^((q-1)/2) with xi = 9 + u: the constants of the psi endomorphism.
    public static let psiCoefficients: (x: Fq2, y: Fq2) = {
        let xi = Fq2(Fq(UInt64(9)), Fq.one)
        let q = Fq.modulus
        return (xi.power((q - BigInt(1)) / BigInt(3)), xi.power((q - BigInt(1)) / BigInt(2)))
    }()

    /// psi = (twist)^-1 o Frobenius o twist, an endomorphism of the twist that acts on G2 as
    /// multiplication by q mod r.
    public static func psi(_ p: AffinePoint<G2Parameters>) -> AffinePoint<G2Parameters> {
        if p.isInfinity { return p }
        return AffinePoint(x: p.x.conjugate * psiCoefficients.x, y: p.y.conjugate * psiCoefficients.y)
    }

    /// The BN parameter x = 4965661367192848881 (63 bits).
    public static let seed = Limbs4(4_965_661_367_192_848_881, 0, 0, 0)

    /// Membership test [x+1]P + psi([x]P) + psi^2([x]P) == psi^3([2x]P) (Dai, Lin, Zhao, Zhou
    /// 2022, sufficient for BN254 since x != 4 mod 13 and x != 92 mod 97): one 63-bit scalar
    /// multiplication (NAF, mixed additions) and psi in Jacobian form, no inversion; a quarter of
    /// checking [r]P == O. The tests compare it with [r]P == O on random twist points, which are
    /// almost never in G2. Many points at once: `G2SubgroupBatch`.
    public static func isInPrimeOrderSubgroup(_ point: AffinePoint<G2Parameters>) -> Bool {
        point.isInG2
    }
}

public typealias G1Affine = AffinePoint<G1Parameters>
public typealias G1Jacobian = JacobianPoint<G1Parameters>
public typealias G2Affine = AffinePoint<G2Parameters>
public typealias G2Jacobian = JacobianPoint<G2Parameters>
