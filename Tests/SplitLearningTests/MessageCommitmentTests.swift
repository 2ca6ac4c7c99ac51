import Algebra
import Commitment
import SplitLearning
import XCTest
import ZKML

/// The packed commitment of a message's values: binding on the checked range, hiding by its
/// salt, and defined (though not injective) outside the range, which no receiver opens.
final class MessageCommitmentTests: XCTestCase {
    let format: FixedPointFormat = {
        guard let format = try? FixedPointFormat(fractionBits: 8, valueBits: 24) else {
            fatalError("the default format")
        }
        return format
    }()

    func testBindingWithinTheRangeAndOnTheLabels() throws {
        let salt = Fr.random()
        let values: [Int64] = (0..<37).map { Int64($0 * 99_991 % Int(format.maxMagnitude)) }
        let honest = try MessageCommitment.activations(values, labels: [3, 7], salt: salt, format: format)
        XCTAssertEqual(try MessageCommitment.activations(values, labels: [3, 7], salt: salt, format: format), honest)
        // Every single-value change, at each position of a packed element and across elements.
        for i in [0, 1, 9, 10, 11, 36] {
            for delta: Int64 in [1, -1, 1 << 12] {
                var other = values
                other[i] += delta
                guard format.maxMagnitude >= abs(other[i]), other[i] >= 0 else { continue }
                XCTAssertNotEqual(
                    try MessageCommitment.activations(other, labels: [3, 7], salt: salt, format: format), honest,
                    "value \(i) moved by \(delta)")
            }
        }
        // Two values swapped inside one packed element, the labels swapped or changed.
        var swapped = values
        swapped.swapAt(2, 3)
        XCTAssertNotEqual(
            try MessageCommitment.activations(swapped, labels: [3, 7], salt: salt, format: format), honest)
        XCTAssertNotEqual(
            try MessageCommitment.activations(values, labels: [7, 3], salt: salt, format: format), honest)
        XCTAssertNotEqual(
            try MessageCommitment.activations(values, labels: [3, 8], salt: salt, format: format), honest)
        // The commitment binds the values followed by the labels; where one ends is fixed by the
        // spec (cut width x batch values, batch labels), whose sizes every receiver checks before
        // it opens, so moving the last value into the labels is the same sequence.
        XCTAssertEqual(
            try MessageCommitment.activations(
                Array(values.dropLast()), labels: [Int(values[36]), 3, 7], salt: salt, format: format), honest)
        XCTAssertNotEqual(
            try MessageCommitment.activations(values, labels: [3, 7], salt: .random(), format: format), honest)
    }

    /// A sender's value 2^B away from an honest one commits like it (the packing reduces it into
    /// the range): the commitment alone does not bind out-of-range values, which is why every
    /// receiver checks the range first (the state-machine tests play this sender and get
    /// `outOfRange`, not an opened commitment). The extremes of Int64 still commit.
    func testOutOfRangeValuesAliasSoTheRangeIsCheckedFirst() throws {
        let salt = Fr.random()
        let gradient: [Int64] = [5, -7, 0, Int64(format.maxMagnitude), -Int64(format.maxMagnitude)]
        let honest = try MessageCommitment.gradient(gradient, salt: salt, format: format)
        var aliased = gradient
        aliased[1] += 1 << Int64(format.valueBits)
        XCTAssertEqual(try MessageCommitment.gradient(aliased, salt: salt, format: format), honest)
        XCTAssertNoThrow(try MessageCommitment.gradient([.min, .max, 0], salt: salt, format: format))
    }
}
