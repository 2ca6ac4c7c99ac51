import Algebra
import Circuit
import Foundation
import XCTest
import ZKML

/// A step-decay learning rate: the batched circuits multiply the gradient sums by the public
/// 2^(slowest - k) and rescale by the slowest shift, which must equal the native step at the
/// phase's own shift k, bit for bit, in every phase.
final class LearningRateScheduleTests: XCTestCase {
    static func spec(schedule: String, batch: Int = 4) throws -> CircuitSpec {
        try CircuitSpec.load(
            Data(
                """
                {"name": "scheduled", "input": {"channels": 1, "height": 28, "width": 28},
                 "client": {"out_channels": 2, "kernel": 7, "stride": 7}, "server": {"outputs": 10},
                 "fraction_bits": 8, "value_bits": 24, "batch": \(batch), "loss": "softmax-cross-entropy",
                 "learning_rate_shift": 5, "learning_rate_schedule": \(schedule),
                 "commitment": "poseidon-t17", "dataset_depth": 4}
                """.utf8))
    }

    /// Base 5, then 7 from step 2, then 4 (faster again) from step 5.
    static let schedule = #"[{"from_step": 2, "shift": 7}, {"from_step": 5, "shift": 4}]"#

    func testThePhaseOfEachStep() throws {
        let spec = try Self.spec(schedule: Self.schedule)
        XCTAssertEqual([0, 1, 2, 4, 5, 1000].map { spec.learningRateShift(atStep: $0) }, [5, 5, 7, 7, 4, 4])
        XCTAssertEqual(spec.slowestLearningRateShift, 7)
        XCTAssertEqual([0, 2, 5].map { spec.learningRateMultiplier(atStep: $0) }, [4, 1, 8])
        let single = try spec.withBatch(1)
        XCTAssertNil(single.learningRateSchedule, "the one-sample circuits fix the rate")
        XCTAssertEqual(single.learningRateShift(atStep: 1000), 5)
        XCTAssertEqual(try spec.withBatch(8).learningRateSchedule, spec.learningRateSchedule)
        let constant = BatchedCircuitTests.spec
        XCTAssertNil(constant.learningRateSchedule)
        XCTAssertEqual(constant.learningRateMultiplier(atStep: 9), 1)
    }

    func testBadSchedulesAreRefusedByField() {
        let cases: [(String, Int, String)] = [
            (#"[{"from_step": 3, "shift": 6}]"#, 1, "learning_rate_schedule"),
            ("[]", 4, "learning_rate_schedule"),
            (#"[{"from_step": 0, "shift": 6}]"#, 4, "learning_rate_schedule.from_step"),
            (#"[{"from_step": 4, "shift": 6}, {"from_step": 4, "shift": 7}]"#, 4, "learning_rate_schedule.from_step"),
            (#"[{"from_step": 4, "shift": 7}, {"from_step": 2, "shift": 6}]"#, 4, "learning_rate_schedule.from_step"),
            (#"[{"from_step": 4, "shift": 21}]"#, 4, "learning_rate_schedule.shift"),
            (#"[{"from_step": 4, "shift": -1}]"#, 4, "learning_rate_schedule.shift"),
            (#"[{"from_step": 4, "shift": 20}, {"from_step": 8, "shift": 0}]"#, 4, "learning_rate_schedule"),
        ]
        for (schedule, batch, field) in cases {
            XCTAssertThrowsError(try Self.spec(schedule: schedule, batch: batch), schedule) { error in
                guard case .invalidField(_, let got, _) = error as? CircuitSpecError else {
                    return XCTFail("\(schedule): \(error)")
                }
                XCTAssertEqual(got, field, schedule)
            }
        }
        XCTAssertThrowsError(try Self.spec(schedule: #"[{"from_step": -2, "shift": 6}]"#)) { error in
            guard case .malformed = error as? CircuitSpecError else { return XCTFail("\(error)") }
        }
    }

    static func assertLintsClean(_ cs: ConstraintSystem<Fr>, _ part: String) {
        let names = Dictionary(uniqueKeysWithValues: cs.wireNames().enumerated().map { ($0.offset, $0.element) })
        var linter = R1CSLinter(cs.r1cs(), names: names)
        let report = linter.run()
        XCTAssertTrue(report.isClean, "\(part): \(report.findings.count) findings, first \(report.findings.prefix(3))")
    }

    /// The identity the circuits rely on, on random sums of both signs and every shift pair.
    func testTheScaledRoundingIsTheRoundingAtTheStepsShift() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let x = Int64.random(in: -(1 << 50)...(1 << 50), using: &generator)
            let s = Int.random(in: 1...20, using: &generator), a = Int.random(in: 0...8, using: &generator)
            XCTAssertEqual(
                BatchedStep.roundedShift(x << Int64(a), s + a), BatchedStep.roundedShift(x, s), "x \(x), s \(s), a \(a)"
            )
        }
    }

    /// In each phase, the server and update circuits are satisfied, prove exactly the native
    /// step at that phase's shift, and expose the multiplier where the statement puts it; a
    /// witness made at another phase's multiplier fails under this one's.
    func testScheduledCircuitsProveTheNativeStepOfEachPhase() throws {
        let spec = try Self.spec(schedule: Self.schedule)
        let layers = try spec.sampleLayers(seed: 1)
        let samples = try [5, 1, 6, 2].map { try BatchedCircuitTests.dataset.opening($0) }
        let activations = try BatchedStep.forward(layers.client, inputs: samples.map(\.values))
        let labels = samples.map(\.label)
        var updates: [QuantizedDense] = []
        for step: UInt64 in [0, 3, 6] {
            let k = spec.learningRateShift(atStep: step)
            let native = try BatchedStep.server(
                layers.server, activations: activations, labels: labels, learningRateShift: k, loss: spec.loss)
            let (server, result) = try spec.batchedServerCircuit(
                layers.server, activations: activations, labels: labels, session: .one, step: step,
                saltBefore: Fr(UInt64(4)), saltAfter: Fr(UInt64(5)))
            XCTAssertNil(server.firstViolation(), "server, step \(step)")
            if step == 0 {
                // Rescales by 2^9 (bias) and 2^17 (weights) leave a one-bit top limb: the lint
                // must still find every committed wire checked.
                Self.assertLintsClean(server, "server")
            }
            XCTAssertEqual(result.updated, native.updated, "server, step \(step)")
            updates.append(result.updated)
            let rate = try XCTUnwrap(server.publicVariable(named: "learningRate"))
            XCTAssertEqual(server.value(rate), Fr(spec.learningRateMultiplier(atStep: step)))
            let before = try ParameterCommitment.commit(
                layers.server.weights + layers.server.bias, format: spec.format, salt: Fr(UInt64(4)))
            let after = try ParameterCommitment.commit(
                result.updated.weights + result.updated.bias, format: spec.format, salt: Fr(UInt64(5)))
            XCTAssertEqual(
                Array(server.publicValues.dropLast()),
                BatchedStatement.server(
                    session: .one, step: step, learningRate: spec.learningRateMultiplier(atStep: step),
                    activations: activations, labels: labels, gradients: result.inputGradients, before: before,
                    after: after))
            // The same witness claimed at another phase's rate.
            server.tamper(rate, with: server.value(rate) + server.value(rate))
            XCTAssertNotNil(server.firstViolation(), "server, step \(step), doubled rate")

            let masked = BatchedStep.maskedGradients(activations: activations, gradients: native.inputGradients)
            let (update, updated) = try spec.batchedUpdateCircuit(
                layers.client, samples: samples, masked: masked, session: .one, step: step,
                saltBefore: Fr(UInt64(6)), saltAfter: Fr(UInt64(7)))
            XCTAssertNil(update.firstViolation(), "update, step \(step)")
            if step == 0 { Self.assertLintsClean(update, "update") }
            XCTAssertEqual(
                updated,
                try BatchedStep.clientUpdate(
                    layers.client, inputs: samples.map(\.values), masked: masked, learningRateShift: k),
                "update, step \(step)")
            let updateRate = try XCTUnwrap(update.publicVariable(named: "learningRate"))
            update.tamper(updateRate, with: update.value(updateRate) + .one)
            XCTAssertNotNil(update.firstViolation(), "update, step \(step), another rate")
        }
        XCTAssertNotEqual(updates[0], updates[1], "the phases train at different rates")
        XCTAssertNotEqual(updates[1], updates[2], "the phases train at different rates")
    }
}
