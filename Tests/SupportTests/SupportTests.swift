import Foundation
import Support
import XCTest

final class ByteReaderTests: XCTestCase {
    func testLittleAndBigEndianIntegers() throws {
        var r = ByteReader([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12])
        XCTAssertEqual(try r.littleEndian(UInt32.self), 0x0403_0201)
        XCTAssertEqual(try r.bigEndian(UInt32.self), 0x0506_0708)
        XCTAssertEqual(try r.littleEndian(UInt16.self), 0x0A09)
        XCTAssertEqual(r.remaining, 2)
    }

    /// Every read past the end throws with the read's start and the missing count, and leaves
    /// the cursor where it was, whatever `limit` and `offset` a caller set.
    func testTruncatedReadsThrowAndNeverTrap() {
        var r = ByteReader([1, 2, 3])
        XCTAssertThrowsError(try r.littleEndian(UInt64.self)) { error in
            XCTAssertEqual(error as? ByteReadError, ByteReadError(offset: 0, needed: 5))
        }
        XCTAssertEqual(r.offset, 0)
        XCTAssertThrowsError(try r.take(-1))
        r.limit = 1000  // beyond the buffer: treated as its end
        XCTAssertEqual(r.remaining, 3)
        XCTAssertThrowsError(try r.take(4))
        r.offset = -2
        XCTAssertThrowsError(try r.take(1))
        r.offset = 10
        XCTAssertEqual(r.remaining, 0)
        XCTAssertThrowsError(try r.take(0 + 1))
        var section = ByteReader([9, 9, 9, 9, 9, 9], offset: 2, limit: 4)
        XCTAssertEqual(try section.littleEndian(UInt16.self), 0x0909)
        XCTAssertThrowsError(try section.take(1)) { error in
            XCTAssertEqual(error as? ByteReadError, ByteReadError(offset: 4, needed: 1))
        }
    }

    func testWriterRoundTripsAndPatchesSectionSizes() throws {
        var w = ByteWriter()
        w.u32(0xDEAD_BEEF)
        w.bigEndian(UInt32(7))
        w.section(5) { body in
            body.u64(42)
            body.u8(1)
        }
        XCTAssertEqual(Array(w.bytes[4..<8]), [0, 0, 0, 7])
        var r = ByteReader(w.bytes)
        XCTAssertEqual(try r.littleEndian(UInt32.self), 0xDEAD_BEEF)
        XCTAssertEqual(try r.bigEndian(UInt32.self), 7)
        XCTAssertEqual(try r.littleEndian(UInt32.self), 5)
        XCTAssertEqual(try r.littleEndian(UInt64.self), 9)
        XCTAssertEqual(try r.littleEndian(UInt64.self), 42)
        XCTAssertEqual(Array(try r.take(1)), [1])
        XCTAssertEqual(r.remaining, 0)
    }
}

final class HexAndDigestTests: XCTestCase {
    func testHexRoundTripAndRejections() {
        let bytes: [UInt8] = [0, 1, 0x7f, 0x80, 0xab, 0xff]
        XCTAssertEqual(Hex.encode(bytes), "00017f80abff")
        XCTAssertEqual(Hex.decode("00017F80ABff"), bytes)
        XCTAssertEqual(Hex.decode(""), [])
        XCTAssertNil(Hex.decode("abc"))
        XCTAssertNil(Hex.decode("zz"))
        XCTAssertNil(Hex.decode("+f"))
        XCTAssertNil(Hex.decode("0xab"))
        XCTAssertEqual(Hex.decode("0xab", allowPrefix: true), [0xab])
    }

    /// FIPS 180-4 test vectors, one-shot and incremental (split at an odd boundary).
    func testSHA256Vectors() {
        XCTAssertEqual(
            SHA256.hex(SHA256.hash(Array("abc".utf8))),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        let long = Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)
        let h = SHA256.Hasher()
        h.update(Array(long[..<13]))
        h.update(Array(long[13...]))
        XCTAssertEqual(Hex.encode(h.finalize()), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        XCTAssertEqual(SHA256.Hasher().finalize(), SHA256.hash([]))
    }

    func testJSONLine() {
        struct Row: Encodable {
            let stepCount: Int
            let path: String
            let loss: Double
        }
        let row = Row(stepCount: 3, path: "a/b", loss: .infinity)
        XCTAssertEqual(jsonLine(row), #"{"loss":"inf","path":"a/b","step_count":3}"#)
        XCTAssertEqual(jsonLine(row, snakeCase: false), #"{"loss":"inf","path":"a/b","stepCount":3}"#)
    }
}

final class ParallelTests: XCTestCase {
    /// Every index is visited exactly once, chunk indices match the ceil split, and degenerate
    /// counts (0, fewer items than chunks, chunks <= 0) are handled.
    func testForEachChunkCoversEveryIndexOnce() {
        for (count, chunks) in [(0, 4), (1, 4), (3, 8), (10, 3), (1000, 7), (5, 0), (17, -1)] {
            let hits = UnsafeMutableBufferPointer<Int>.allocate(capacity: max(count, 1))
            hits.initialize(repeating: 0)
            defer { hits.deallocate() }
            let shared = UnsafeSendable(hits)
            let size = count == 0 ? 1 : (count + max(1, min(chunks, count)) - 1) / max(1, min(chunks, count))
            Parallel.forEachChunk(count, chunks: chunks) { chunk, range in
                XCTAssertEqual(range.lowerBound, chunk * size)
                for i in range { shared.value[i] += 1 }
            }
            XCTAssertEqual(
                Array(hits.prefix(count)), [Int](repeating: 1, count: count), "count \(count), chunks \(chunks)")
        }
    }
}

final class StatisticsTests: XCTestCase {
    func testQuantilesInvertTheirDistributions() {
        for p in [0.001, 0.025, 0.3, 0.5, 0.9, 0.999] {
            XCTAssertEqual(Statistics.normalCDF(Statistics.normalQuantile(p)), p, accuracy: 1e-12)
            let t = Statistics.studentTQuantile(p, degreesOfFreedom: 4)
            // The t distribution function loses digits near the median (I_x(v/2, 1/2) as x -> 1).
            XCTAssertEqual(Statistics.studentTCDF(t, degreesOfFreedom: 4), p, accuracy: 1e-7)
        }
        // t_{0.975, 4} = 2.776445 (tables).
        XCTAssertEqual(Statistics.studentTQuantile(0.975, degreesOfFreedom: 4), 2.776445, accuracy: 1e-5)
        XCTAssertTrue(Statistics.regularizedIncompleteBeta(x: 0.5, a: -1, b: 1).isNaN)
    }
}
