import Algebra
import Circuit
import Foundation
import XCTest
import ZKML

/// Issue 24: specs that passed validation took 39 s and 2.2 GB (1,000 outputs) or ran past
/// 180 s at 5.5 GB (a wide convolution) in `circuit info`. The validator now bounds every part's
/// constraints from the spec's numbers before anything is built.
final class CircuitSizeTests: XCTestCase {
    func spec(
        channels: Int = 1, size: Int = 28, outChannels: Int, kernel: Int, stride: Int, outputs: Int,
        s: Int = 8, b: Int = 24, shift: Int = 5, loss: String = "softmax-cross-entropy"
    ) -> String {
        """
        {"name": "t", "input": {"channels": \(channels), "height": \(size), "width": \(size)},
         "client": {"out_channels": \(outChannels), "kernel": \(kernel), "stride": \(stride)},
         "server": {"outputs": \(outputs)}, "fraction_bits": \(s), "value_bits": \(b), "batch": 1,
         "loss": "\(loss)", "learning_rate_shift": \(shift), "commitment": "poseidon-t17"}
        """
    }

    /// The bound is never below a built circuit's constraint count, over specs that vary every
    /// term (channels, kernel, stride, outputs, S, B, the shift including 0, both losses), and
    /// within 1.5 times it for the server steps that dominate.
    func testBoundCoversBuiltCircuits() throws {
        let texts = [
            spec(outChannels: 1, kernel: 7, stride: 7, outputs: 10),  // tiny.json
            spec(outChannels: 2, kernel: 7, stride: 7, outputs: 10),  // split.json
            spec(channels: 2, size: 12, outChannels: 3, kernel: 3, stride: 2, outputs: 4, s: 6, b: 20, shift: 0),
            spec(
                channels: 1, size: 10, outChannels: 2, kernel: 4, stride: 3, outputs: 7, s: 10, b: 26, shift: 3,
                loss: "mse"),
            spec(channels: 3, size: 9, outChannels: 1, kernel: 9, stride: 1, outputs: 2, shift: 1),
        ]
        for text in texts {
            let s = try CircuitSpec.load(Data(text.utf8))
            let layers = try s.sampleLayers(seed: 2)
            let x = (0..<(s.input.channels * s.input.height * s.input.width)).map {
                Int64($0 % min(200, 1 << s.inputBits))
            }
            for part in CircuitSpec.Part.allCases {
                let built = try s.build(part, input: x, label: 1, layers: layers, session: .one, step: 1)
                    .constraintCount
                let bound = s.constraintBound(part)
                XCTAssertGreaterThanOrEqual(bound, built, "\(part) of \(text)")
                if part == .server {
                    XCTAssertLessThanOrEqual(Double(bound), 1.5 * Double(built), "\(part) of \(text)")
                }
            }
        }
        // The demo's server step (596,227 constraints, measured in circuits/README.md) stays in.
        let demo = try CircuitSpec.load(Data(spec(outChannels: 4, kernel: 5, stride: 2, outputs: 10, shift: 4).utf8))
        XCTAssertGreaterThanOrEqual(demo.constraintBound(.server), 596_227)
        XCTAssertLessThanOrEqual(demo.constraintBound(.server), CircuitSpec.maxConstraintsPerPart)
    }

    /// The two specs are refused in milliseconds, naming the part and the limit.
    func testHugeSpecsAreRefusedBeforeBuilding() {
        let start = Date()
        for (text, part) in [
            (spec(outChannels: 2, kernel: 7, stride: 7, outputs: 1000), "server"),
            (spec(outChannels: 64, kernel: 3, stride: 1, outputs: 10), "client"),
        ] {
            XCTAssertThrowsError(try CircuitSpec.load(Data(text.utf8), file: "big.json")) { error in
                guard case CircuitSpecError.invalidField("big.json", part, let expected) = error else {
                    return XCTFail("\(error)")
                }
                XCTAssertTrue(expected.contains("1048576"), expected)
            }
        }
        // The largest inputs the field checks allow do not overflow the bound's arithmetic.
        let widest = spec(
            channels: 16, size: 512, outChannels: 64, kernel: 1, stride: 1, outputs: 1000, s: 30, b: 62, shift: 20)
        XCTAssertThrowsError(try CircuitSpec.load(Data(widest.utf8)))
        XCTAssertLessThan(Date().timeIntervalSince(start), 0.5)
    }
}
