import Algebra
import Circuit
import Foundation

/// A split network's proved parts, as a JSON file in `circuits/`: the client's convolution (its
/// weights committed, its activations public), the cut, and the server's Dense head trained
/// with a proven step. The split protocol and `verisplit circuit` read the same file.
///
/// ```json
/// {"name": "demo", "input": {"channels": 1, "height": 28, "width": 28},
///  "client": {"out_channels": 4, "kernel": 5, "stride": 2},
///  "server": {"outputs": 10}, "fraction_bits": 8, "value_bits": 24, "batch": 1,
///  "loss": "softmax-cross-entropy", "learning_rate_shift": 4, "commitment": "poseidon-t17"}
/// ```
public struct CircuitSpec: Codable, Sendable, Equatable {
    public struct Input: Codable, Sendable, Equatable {
        public let channels: Int, height: Int, width: Int
    }
    public struct Client: Codable, Sendable, Equatable {
        public let outChannels: Int, kernel: Int, stride: Int
        enum CodingKeys: String, CodingKey { case outChannels = "out_channels", kernel, stride }
    }
    public struct Server: Codable, Sendable, Equatable {
        public let outputs: Int
    }

    public let name: String
    public let input: Input
    public let client: Client
    public let server: Server
    public let fractionBits: Int
    public let valueBits: Int
    public let batch: Int
    public let loss: ServerStep.Loss
    public let learningRateShift: Int
    public let commitment: String

    enum CodingKeys: String, CodingKey {
        case name, input, client, server, batch, loss, commitment
        case fractionBits = "fraction_bits", valueBits = "value_bits", learningRateShift = "learning_rate_shift"
    }

    /// The proved parts of one training step: the client's forward pass, the server's step, and
    /// the client's own update from the gradient the server returned.
    public enum Part: String, Sendable, CaseIterable {
        case client, server
        case clientUpdate = "client-update"
    }

    /// Parses and validates a spec; every error names the field and the accepted range.
    public static func load(_ data: Data, file: String = "spec") throws(CircuitSpecError) -> CircuitSpec {
        let spec: CircuitSpec
        do { spec = try JSONDecoder().decode(CircuitSpec.self, from: data) } catch {
            throw .malformed(file: file, reason: "\(error)")
        }
        try spec.validate(file: file)
        return spec
    }

    func validate(file: String) throws(CircuitSpecError) {
        func check(_ ok: Bool, _ field: String, _ range: String) throws(CircuitSpecError) {
            if !ok { throw .invalidField(file: file, field: field, expected: range) }
        }
        try check((1...16).contains(input.channels), "input.channels", "1...16")
        try check((1...512).contains(input.height) && (1...512).contains(input.width), "input.height/width", "1...512")
        try check((1...64).contains(client.outChannels), "client.out_channels", "1...64")
        try check(client.kernel >= 1 && client.kernel <= min(input.height, input.width), "client.kernel", "1...min(height, width)")
        try check((1...8).contains(client.stride), "client.stride", "1...8")
        try check((2...1000).contains(server.outputs), "server.outputs", "2...1000")
        try check(batch == 1, "batch", "1 (batched step circuits are not built yet)")
        try check((0...20).contains(learningRateShift), "learning_rate_shift", "0...20")
        try check(commitment == "poseidon-t17", "commitment", "\"poseidon-t17\"")
        do { _ = try FixedPointFormat(fractionBits: fractionBits, valueBits: valueBits) } catch {
            throw .invalidField(file: file, field: "fraction_bits/value_bits", expected: error.description)
        }
        try checkSize(file: file)
    }

    public var format: FixedPointFormat {
        // Validated in `load`.
        (try? FixedPointFormat(fractionBits: fractionBits, valueBits: valueBits)) ?? FixedPointFormat.default
    }

    public var cutWidth: Int {
        let h = (input.height - client.kernel) / client.stride + 1
        let w = (input.width - client.kernel) / client.stride + 1
        return client.outChannels * h * w
    }

    /// Deterministic layers for a spec (seeded, Kaiming-scale), so `circuit compile` and tests
    /// produce the same statement on every machine. Training replaces them.
    public func sampleLayers(seed: UInt64) throws -> (client: QuantizedConv2d, server: QuantizedDense) {
        var state = seed &+ 0x9e37_79b9_7f4a_7c15
        func next(_ bound: Double) -> Int64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let unit = Double(state >> 11) / Double(UInt64(1) << 53) * 2 - 1
            return Int64((unit * bound * format.scale).rounded())
        }
        let fanIn = Double(input.channels * client.kernel * client.kernel)
        let kernel = (0..<(client.outChannels * input.channels * client.kernel * client.kernel)).map { _ in next(2 / fanIn.squareRoot()) }
        let conv = try QuantizedConv2d(inChannels: input.channels, outChannels: client.outChannels, height: input.height,
                                       width: input.width, kernelSize: client.kernel, stride: client.stride,
                                       weights: kernel, bias: [Int64](repeating: 0, count: client.outChannels),
                                       relu: true, format: format)
        let head = (0..<(cutWidth * server.outputs)).map { _ in next(1 / Double(cutWidth).squareRoot()) }
        let dense = try QuantizedDense(inputs: cutWidth, outputs: server.outputs, weights: head,
                                       bias: [Int64](repeating: 0, count: server.outputs), relu: false, format: format)
        return (conv, dense)
    }

    /// Builds one part's circuit and witness for one sample (input already in fixed point), with
    /// fresh salts: the statement `verisplit circuit` compiles and benchmarks.
    public func build(_ part: Part, input x: [Int64], label: Int, layers: (client: QuantizedConv2d, server: QuantizedDense),
                      session: Fr, step: UInt64) throws -> ConstraintSystem<Fr> {
        switch part {
        case .client:
            return try clientForwardCircuit(layers.client, input: x, session: session, step: step, salt: .random())
        case .server:
            return try serverStepCircuit(layers.server, activations: try layers.client.forward(x), label: label,
                                         session: session, step: step, saltBefore: .random(), saltAfter: .random()).circuit
        case .clientUpdate:
            let server = try ServerStep(layer: layers.server, learningRateShift: learningRateShift, loss: loss)
                .run(activations: try layers.client.forward(x), label: label)
            return try clientUpdateCircuit(layers.client, input: x, gradient: server.inputGradient, session: session,
                                           step: step, saltBefore: .random(), saltAfter: .random()).circuit
        }
    }

    /// The client's forward proof: public (session, step, commitment to K and b under `salt`, A).
    public func clientForwardCircuit(_ conv: QuantizedConv2d, input x: [Int64], session: Fr, step: UInt64,
                                     salt: Fr) throws -> ConstraintSystem<Fr> {
        let cs = ConstraintSystem<Fr>()
        _ = cs.allocatePublic("session", value: session)
        _ = cs.allocatePublic("step", value: Fr(step))
        _ = try conv.synthesizeCommitted(into: cs, input: x, salt: salt)
        return cs
    }

    /// The server's step: public (session, step, A, one-hot y, dL/dA, commitments before/after).
    public func serverStepCircuit(_ head: QuantizedDense, activations: [Int64], label: Int, session: Fr, step: UInt64,
                                  saltBefore: Fr, saltAfter: Fr) throws -> (circuit: ConstraintSystem<Fr>, result: ServerStep.Result) {
        let cs = ConstraintSystem<Fr>()
        let result = try ServerStep(layer: head, learningRateShift: learningRateShift, loss: loss).synthesize(
            into: cs, activations: activations, label: label, session: session, step: step,
            saltBefore: saltBefore, saltAfter: saltAfter)
        return (cs, result)
    }

    /// The client's own update: public (session, step, A, G, commitments before/after).
    public func clientUpdateCircuit(_ conv: QuantizedConv2d, input x: [Int64], gradient: [Int64], session: Fr, step: UInt64,
                                    saltBefore: Fr, saltAfter: Fr) throws -> (circuit: ConstraintSystem<Fr>, updated: QuantizedConv2d) {
        let cs = ConstraintSystem<Fr>()
        let updated = try ConvClientUpdate(layer: conv, learningRateShift: learningRateShift).synthesize(
            into: cs, input: x, outputGradient: gradient, session: session, step: step,
            saltBefore: saltBefore, saltAfter: saltAfter)
        return (cs, updated)
    }
}

extension FixedPointFormat {
    /// S = 8, B = 24: the format the specs and benchmarks default to.
    public static var `default`: FixedPointFormat {
        // 8 + 24 <= 252 and both in range: cannot fail.
        (try? FixedPointFormat(fractionBits: 8, valueBits: 24))!
    }
}

public enum CircuitSpecError: Error, Equatable, CustomStringConvertible {
    case malformed(file: String, reason: String)
    case invalidField(file: String, field: String, expected: String)

    public var description: String {
        switch self {
        case .malformed(let f, let r): return "\(f): not a valid circuit spec (\(r.prefix(200)))"
        case .invalidField(let f, let k, let e): return "\(f): field '\(k)' must be \(e)"
        }
    }
}

/// Constraint counts of a built circuit by kind, from the constraints' namespaced names.
public struct ConstraintBreakdown: Sendable, Equatable {
    public var matmul = 0, rescale = 0, relu = 0, loss = 0, commitment = 0, other = 0
    public var total: Int { matmul + rescale + relu + loss + commitment + other }

    public init(_ cs: ConstraintSystem<Fr>) {
        for constraint in cs.constraints {
            let name = cs.constraintNames[constraint.nameIndex]
            if name.contains("open") || name.contains("commit") || name.contains("poseidon") || name.contains("sponge") {
                commitment += 1
            } else if name.hasPrefix("softmax") {
                loss += 1
            } else if name.contains("remainder") || name.contains("quotient") {
                rescale += 1
            } else if name.contains("relu") || name.contains("/y") || name.hasPrefix("A") || name.contains(".y") {
                relu += 1
            } else if name.contains("w") || name.contains("W") || name.contains("ga") || name.contains("delta") || name.contains("dK") {
                matmul += 1
            } else {
                other += 1
            }
        }
    }
}
