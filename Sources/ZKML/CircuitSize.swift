/// How large a spec's circuits get, computed from the spec's numbers alone, so that a spec whose
/// circuits would take minutes and gigabytes to build is refused before anything is built.
extension CircuitSpec {
    /// The most constraints one part may need (by `constraintBound`): 2^20. At this size a
    /// Groth16 proof takes about 15 s and 1.3 GB here (README, Performance), and building the
    /// circuit for `verisplit circuit info` takes a few seconds; the shipped specs need at most
    /// 704,060 (the demo's server step).
    public static let maxConstraintsPerPart = 1 << 20

    /// An upper bound on the constraints of `part`, without building it. It is the exact count
    /// of today's gadgets (each term below is one gadget's documented cost), plus an allowance
    /// of B + 1 constraints per private input value and per committed parameter at each
    /// opening, room for range checks on them. Tests compare it with built circuits: never
    /// below the real count, and within 1.5 times it for the shipped specs' server steps (the
    /// largest parts; the allowance makes the small client parts' bounds looser).
    ///
    /// With S fraction bits, B value bits, k the learning-rate shift, F = C k k the receptive
    /// field, P the output positions, cut = C_out P, N the outputs, sponge(n) = 612 ceil((n + 1)
    /// / 16) - 2 (a Poseidon commitment to n values) and a rescale by 2^s costing s + B + 2:
    /// - client: cut (F + S + B + 3) + sponge(C_out (F + 1));
    /// - server: 3 N cut products, N + cut rescales by 2^S, N cut by 2^(S+k), N by 2^k, the
    ///   softmax (or nothing for MSE), cut equalities, two sponges over N (cut + 1);
    /// - client update: the forward pass, cut + cut F products, C_out F rescales by 2^(S+k),
    ///   C_out by 2^k, two sponges over C_out (F + 1).
    /// O(1); no overflow for any spec that passes the field checks (every term < 2^50).
    public func constraintBound(_ part: Part) -> Int {
        let s = fractionBits, b = valueBits, k = learningRateShift
        let field = input.channels * client.kernel * client.kernel
        let cut = cutWidth
        let n = server.outputs
        let clientParameters = client.outChannels * (field + 1)
        let serverParameters = n * (cut + 1)
        let inputValues = input.channels * input.height * input.width
        func sponge(_ values: Int) -> Int { 612 * ((values + 1 + 15) / 16) - 2 }
        // A parameter commitment absorbs the parameters packed (ParameterCommitment).
        func parameterSponge(_ values: Int) -> Int { sponge(ParameterCommitment.layout(format).elementCount(values)) }
        func rescale(_ shift: Int) -> Int { shift == 0 ? 0 : shift + b + 2 }
        let allowance = b + 1
        let forward = cut * (field + rescale(s) + 1) + parameterSponge(clientParameters)
        // The committed sample: its leaf sponge over the packed values, the label and the salt,
        // and (forward proof) the Merkle opening: a Poseidon(2) node and two selects per level,
        // the index bits and the root equality.
        let packed = inputLayout.elementCount(inputValues)
        let leaf = sponge(packed + 1) + 1
        let merkle = datasetDepth * (240 + 2) + datasetDepth + 2
        switch part {
        case .client:
            return forward + leaf + merkle + allowance * (inputValues + clientParameters)
        case .server:
            let products = 3 * n * cut
            let rescales = n * rescale(s) + cut * rescale(s) + n * cut * rescale(s + k) + n * rescale(k)
            return products + rescales + softmaxBound(n) + cut + 2 * parameterSponge(serverParameters)
                + allowance * (cut + 2 * serverParameters)
        case .clientUpdate:
            let update = cut + cut * field + client.outChannels * (field * rescale(s + k) + rescale(k))
            return forward + update + leaf + parameterSponge(clientParameters) + allowance
                * (inputValues + 2 * clientParameters)
        }
    }

    /// `ConstraintSystem.softmax` over m logits (0 for the MSE loss): the maximum's range checks
    /// and product chain, per class the clamped base, eight squarings rescaled by 2^(S+8) and
    /// the narrowing, and the division's range checks.
    func softmaxBound(_ m: Int) -> Int {
        guard loss == .softmaxCrossEntropy else { return 0 }
        let s = fractionBits, b = valueBits
        // The maximum: a comparison (B + 3) and a select per class after the first, the max's
        // equality, and the range check of each gap.
        let maximum = (m - 1) * (b + 4) + 1 + m * (b + 1) + m
        let exponential =
            m
            * (1 + (b + 2) + 1 + FixedPointSoftmax.halvings * (1 + s + FixedPointSoftmax.halvings + b + 2)
                + (FixedPointSoftmax.halvings + b + 2))
        let division = m * ((b + 1) + 1 + 2 * (b + s + 1))
        return maximum + exponential + division
    }

    /// Refuses a spec with a part past `maxConstraintsPerPart`, naming the part, its bound and
    /// the fields that drive it. Runs after the field checks, so every number is bounded.
    func checkSize(file: String) throws(CircuitSpecError) {
        for part in Part.allCases {
            let bound = constraintBound(part)
            guard bound <= Self.maxConstraintsPerPart else {
                let drivers =
                    part == .server
                    ? "server.outputs and the cut width (client.out_channels, kernel, stride, input size)"
                    : "client.out_channels, client.kernel, client.stride and the input size"
                throw .invalidField(
                    file: file, field: part.rawValue,
                    expected: "at most \(Self.maxConstraintsPerPart) constraints per part (2^20), but this spec's "
                        + "\(part.rawValue) part needs up to \(bound); reduce \(drivers)")
            }
        }
    }
}
