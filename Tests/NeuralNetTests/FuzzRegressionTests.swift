import Foundation
import NeuralNet
import XCTest

/// Inputs found by `scripts/fuzz.sh model-spec`.
final class ModelSpecFuzzRegressionTests: XCTestCase {
    /// Validation used to build every layer to learn its output shape, allocating (and zeroing)
    /// each Dense's weights: 8.5 GB per layer here. It must now check the spec without them.
    func testValidationDoesNotAllocateWeights() throws {
        let json = #"{"input":[46000],"layers":[{"type":"dense","in":46000,"out":46000},{"type":"relu"},"#
            + #"{"type":"dense","in":46000,"out":46000},{"type":"dense","in":46000,"out":2}]}"#
        let start = Date()
        let spec = try ModelSpec.parse(Data(json.utf8))
        XCTAssertLessThan(Date().timeIntervalSince(start), 1, "validation took long enough to have built the layers")
        XCTAssertEqual(spec.shapes, [[46000], [46000], [46000], [46000], [2]])
    }

    /// One more element than the limit (2^31) is refused before anything is built.
    func testOversizedWeightsRejected() {
        let json = #"{"input":[46341],"layers":[{"type":"dense","in":46341,"out":46341}]}"#
        XCTAssertThrowsError(try ModelSpec.parse(Data(json.utf8))) { error in
            XCTAssertEqual((error as? ModelSpecError)?.path, "layers[0]")
        }
    }
}
