import Foundation
import NeuralNet
import XCTest

/// Issue 24's data cases: data that does not fit the model is a typed error before any layer
/// runs (it used to trap in `Loss` and `Sequential`), and a gzipped IDX file is inflated only as
/// far as its header declares.
final class HostileDataTests: XCTestCase {
    func mlp() throws -> Sequential { try ModelSpec.resolve("mlp-784-128-10").makeModel(seed: 1) }

    /// A test label of 10 for a 10-output model: `check` names the sample and the label.
    func testLabelAtOrAboveTheOutputsIsATypedError() throws {
        let model = try mlp()
        let (_, test) = try MNISTFamily.load(.bundled)
        XCTAssertNoThrow(try model.check(test))
        var labels = test.labels
        labels[7] = 10
        let bad = try Dataset(features: test.features, labels: labels, classCount: 11)
        XCTAssertThrowsError(try model.check(bad)) { error in
            XCTAssertEqual(error as? ModelError, .labelOutOfRange(sample: 7, label: 10, outputs: 10))
        }
    }

    /// Images of another shape (28 x 27 for a 784-input model) are refused; a different shape
    /// with the same element count ([784] against [1, 28, 28]) is the same data and accepted.
    func testSampleShapeMismatchIsATypedError() throws {
        let model = try mlp()
        let narrow = Tensor(shape: [3, 1, 28, 27])
        let data = try Dataset(features: narrow, labels: [0, 1, 2], classCount: 10)
        XCTAssertThrowsError(try model.check(data)) { error in
            XCTAssertEqual(error as? ModelError, .inputShape(expectedPerSample: [784], got: [3, 1, 28, 27]))
        }
        let flat = try Dataset(features: Tensor(shape: [3, 784]), labels: [0, 1, 2], classCount: 10)
        XCTAssertNoThrow(try model.check(flat))
        let cnn = try ModelSpec.resolve("cnn-small").makeModel(seed: 1)
        XCTAssertNoThrow(try cnn.check(flat))
        XCTAssertThrowsError(try cnn.check(data))
    }

    /// A gzipped IDX whose stream holds 256 MiB of zeros past its declared data: refused after
    /// inflating the declared size only, in well under a second. (It used to inflate all of it
    /// first: 1 GiB of zeros peaked at 2.1 GB.) The file is an honest one plus 256 concatenated
    /// gzip members of 1 MiB of zeros, about 270 kB.
    func testGzipPastTheDeclaredSizeIsRefusedWithoutInflatingIt() throws {
        XCTAssertEqual(try IDX.parse(Self.honest).values, [0, 1, 2, 255, 128, 7])
        var bomb = Self.honest
        for _ in 0..<256 { bomb += Self.megabyteOfZeros }
        XCTAssertLessThan(bomb.count, 300_000)
        let start = Date()
        XCTAssertThrowsError(try IDX.parse(bomb)) { error in
            XCTAssertEqual(error as? IDXError, .trailingData(dims: [6], expectedBytes: 6))
        }
        XCTAssertLessThan(Date().timeIntervalSince(start), 0.5, "the whole stream was inflated")
        // Through `decompress` (no declared size), the same stream is capped by its limit.
        XCTAssertThrowsError(try Gzip.decompress(bomb, limit: 4 << 20)) { error in
            XCTAssertEqual(error as? GzipError, .tooLarge(limit: 4 << 20))
        }
        // A header declaring 65,535 elements over a stream of 3: a size mismatch after inflating 3.
        let short = Data([
            31, 139, 8, 0, 0, 0, 0, 0, 2, 3, 99, 96, 224, 96, 100, 96, 248, 255, 159, 145, 137, 25, 0,
            24, 139, 105, 162, 11, 0, 0, 0,
        ])
        XCTAssertThrowsError(try IDX.parse(short)) { error in
            XCTAssertEqual(error as? IDXError, .sizeMismatch(dims: [65535], expectedBytes: 65535, availableBytes: 3))
        }
    }

    /// `IDX.encodeUBytes([0, 1, 2, 255, 128, 7], dimensions: [6])` gzipped (Python:
    /// gzip.compress(data, 9, mtime=0)).
    static let honest = Data([
        31, 139, 8, 0, 0, 0, 0, 0, 2, 3, 99, 96, 224, 96, 100, 96, 96, 96, 99, 96, 100, 250, 223,
        192, 14, 0, 253, 61, 255, 249, 14, 0, 0, 0,
    ])

    /// gzip.compress(bytes(1 << 20), 9, mtime=0): one member, 1,051 bytes.
    static let megabyteOfZeros =
        Data(
            base64Encoded: "H4sIAAAAAAACA+3BMQEAAADCoPVPbQhfoA" + String(repeating: "A", count: 1354)
                + "PgMc6jinAAAQAA==") ?? Data()

    /// The streaming reader gives what `decompress` gives, across member boundaries and reads
    /// of odd sizes.
    func testGzipStreamReadsMatchWholeDecompression() throws {
        let a = Data(count: 1 << 20)
        let b = IDX.encodeUBytes([0, 1, 2, 255, 128, 7], dimensions: [6])
        let both = Self.megabyteOfZeros + Self.honest
        let stream = try GzipStream(both)
        var out: [UInt8] = []
        var size = 1
        while !(try stream.atEnd) {
            out += try stream.read(upTo: size)
            size = size * 3 + 1
        }
        XCTAssertEqual(Data(out), a + b)
        XCTAssertEqual(try Gzip.decompress(both), a + b)
        XCTAssertNil(try GzipStream(Self.honest).read(exactly: b.count + 1))
    }

}
