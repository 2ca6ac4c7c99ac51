import Circuit
import Foundation
import XCTest

/// Inputs found by `scripts/fuzz.sh r1cs`, kept as base64; each must be rejected with a typed error.
final class CircomFuzzRegressionTests: XCTestCase {
    /// Wire 1 carries label 2^64 - 1 although the header declares 2 labels; it used to be
    /// accepted, and writing the circuit back then overflowed computing the label count.
    func testLabelNotBelowLabelCount() {
        let bytes = [UInt8](
            Data(
                base64Encoded:
                    "cjFjcwEAAAADAAAAAQAAAEAAAAAAAAAAIAAAAAEAAPCT9eFDkXC5eUjoMyhdWIGBtkVQuCmgMeFyTmQwAgAAAAEAAAAAAAAAAAAAAAIAAAAAAAAAAAAAAAIAAAAAAAAAAAAAAAMAAAAQAAAAAAAAAAAAAAAAAAAA//////////8="
            ) ?? Data())
        XCTAssertThrowsError(try Circom.readR1CS(bytes)) { error in
            guard case CircomFormatError.invalid(_, "wire2label(3)", 120, let reason) = error else {
                return XCTFail("\(error)")
            }
            XCTAssertTrue(reason.contains("label count 2"), reason)
        }
    }

    /// A 100-byte file declaring 2^28 wires and no wire2label section made the reader allocate
    /// a 2 GB default label table.
    func testWireCountWithoutLabelSectionIsBoundedByFileSize() {
        let bytes = [UInt8](
            Data(
                base64Encoded:
                    "cjFjcwEAAAACAAAAAQAAAEAAAAAAAAAAIAAAAAEAAPCT9eFDkXC5eUjoMyhdWIGBtkVQuCmgMeFyTmQwAAAAEAEAAAAAAAAAAAAAAAAAABAAAAAAAAAAAAIAAAAAAAAAAAAAAA=="
            ) ?? Data())
        XCTAssertThrowsError(try Circom.readR1CS(bytes)) { error in
            XCTAssertEqual(
                error as? CircomFormatError,
                .tooLarge(
                    file: "r1cs", what: "wire count without a wire2label(3) section",
                    value: 1 << 28, limit: 100))
        }
    }
}
