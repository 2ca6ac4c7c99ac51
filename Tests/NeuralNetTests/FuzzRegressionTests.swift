import Foundation
import NeuralNet
import XCTest

/// Inputs found by `scripts/fuzz.sh` (model-spec, csv, idx); each must be handled without trapping.
final class NeuralNetFuzzRegressionTests: XCTestCase {
    /// Validation used to build every layer to learn its output shape, allocating (and zeroing)
    /// each Dense's weights: 8.5 GB per layer here. It must now check the spec without them.
    func testValidationDoesNotAllocateWeights() throws {
        let json =
            #"{"input":[46000],"layers":[{"type":"dense","in":46000,"out":46000},{"type":"relu"},"#
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

    /// A label of 1e30 passed the "non-negative integer" check and trapped converting to Int.
    func testHugeCSVLabelRejected() {
        XCTAssertThrowsError(try Dataset.csv("x,label\n0.5,1e30\n")) { error in
            guard case DatasetError.csv(2, 2, let reason) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(reason.contains("0...999999"), reason)
        }
        XCTAssertEqual(try Dataset.csv("x,label\n0.5,999999\n").labels, [999_999])
    }

    /// Dimensions 2^32 - 1 (three times) then 0: the element count saturated on overflow and the
    /// zero brought it back to 0, so the file parsed with dimensions whose product overflows.
    func testIDXDimensionProductOverflowRejected() {
        let bytes = Data([0, 0, 8, 4] + [UInt8](repeating: 0xff, count: 12) + [0, 0, 0, 0])
        XCTAssertThrowsError(try IDX.parse(bytes)) { error in
            guard case IDXError.badDimensions = error else { return XCTFail("\(error)") }
        }
    }
}
