import Foundation
import NeuralNet
import XCTest

final class SafeTensorsTests: XCTestCase {
    private func sample() -> SafeTensorsFile {
        SafeTensorsFile(
            tensors: [
                ("fc1.weight", randomTensor([3, 4], seed: 1)), ("fc1.bias", randomTensor([3], seed: 2)),
                ("scalar", Tensor(shape: [], repeating: 7)), ("empty", Tensor(shape: [0, 5])),
            ],
            metadata: ["method": "dp-weights", "sigma": "0.5", "quote\"d": "a\\b\n"])
    }

    /// Builds a file from a raw header string and data bytes.
    private func file(header: String, data: [UInt8] = []) -> Data {
        var out = Data()
        withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(contentsOf: Array(header.utf8))
        out.append(contentsOf: data)
        return out
    }

    func testRoundTripKeepsTensorsAndMetadata() throws {
        let f = sample()
        let bytes = SafeTensors.encode(f)
        let headerLength = bytes.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        XCTAssertEqual(headerLength % 8, 0, "header padded to 8 bytes")
        let back = try SafeTensors.decode(bytes)
        XCTAssertEqual(back.metadata, f.metadata)
        XCTAssertEqual(back.byName["fc1.weight"], f.byName["fc1.weight"])
        XCTAssertEqual(back.byName["scalar"]?.storage, [7])
        XCTAssertEqual(back.byName["empty"]?.shape, [0, 5])
        XCTAssertEqual(back.tensors.map(\.name), f.tensors.map(\.name), "data order is kept")
    }

    func testKnownByteLayout() throws {
        // A file as the reference implementation writes it: one F32 tensor [2] = [1.0, -2.0].
        let header = #"{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#
        let t = try SafeTensors.decode(file(header: header, data: [0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0]))
        XCTAssertEqual(t.byName["x"]?.storage, [1, -2])
    }

    /// Bytes written by the Python reference (`safetensors.numpy.save_file({"a.weight":
    /// arange(6).reshape(2, 3), "a.bias": [1.5, -2]}, metadata={"sigma": "0.7"})`): we must read
    /// them, and writing the same tensors must give the same bytes.
    func testInteroperatesWithReferenceImplementation() throws {
        let header =
            #"{"__metadata__":{"sigma":"0.7"},"a.bias":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"a.weight":{"dtype":"F32","shape":[2,3],"data_offsets":[8,32]}}"#
            + String(repeating: " ", count: 7)
        let floats: [Float] = [1.5, -2, 0, 1, 2, 3, 4, 5]
        let reference = file(
            header: header, data: floats.flatMap { f in withUnsafeBytes(of: f.bitPattern.littleEndian, Array.init) })
        XCTAssertEqual(reference.count, 200)
        let parsed = try SafeTensors.decode(reference)
        XCTAssertEqual(parsed.metadata, ["sigma": "0.7"])
        XCTAssertEqual(parsed.byName["a.weight"], try Tensor(shape: [2, 3], storage: [0, 1, 2, 3, 4, 5]))
        XCTAssertEqual(parsed.byName["a.bias"]?.storage, [1.5, -2])
        XCTAssertEqual(SafeTensors.encode(parsed), reference)
    }

    func testModelSaveLoadRoundTrip() throws {
        let s = try ModelSpec.bundled("mlp-784-128-10")
        let model = s.makeModel(seed: 3)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("nn-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try model.saveSafetensors(to: url, metadata: ["sigma": "1.1"])
        var other = s.makeModel(seed: 4)
        let meta = try other.loadSafetensors(from: url)
        XCTAssertEqual(meta["sigma"], "1.1")
        for (a, b) in zip(model.namedParameters, other.namedParameters) {
            XCTAssertEqual(a.name, b.name)
            XCTAssertEqual(a.value, b.value)
        }
        var wrong = try ModelSpec.parse(
            Data(#"{"input": [784], "layers": [{"type": "dense", "name": "fc1", "in": 784, "out": 64}]}"#.utf8)
        ).makeModel()
        XCTAssertThrowsError(try wrong.loadSafetensors(from: url)) { error in
            XCTAssertEqual(
                error as? ModelError, .shapeMismatch(parameter: "fc1.weight", expected: [64, 784], got: [128, 784]))
        }
    }

    func testRejectsBadFiles() {
        func expect(_ data: Data, _ check: (SafeTensorsError) -> Bool, _ what: String) {
            do {
                _ = try SafeTensors.decode(data)
                XCTFail("\(what): accepted")
            } catch {
                XCTAssertTrue(check(error), "\(what): wrong error \(error)")
                XCTAssertFalse(error.description.isEmpty)
            }
        }
        let good = SafeTensors.encode(sample())
        expect(
            Data([1, 2, 3]),
            {
                if case .truncated = $0 { return true }
                return false
            }, "shorter than 8 bytes")
        expect(
            good.prefix(good.count - 1),
            {
                if case .outOfBounds = $0 { return true }
                return false
            }, "data truncated")
        expect(
            good.prefix(20),
            {
                if case .truncated = $0 { return true }
                return false
            }, "header truncated")
        var huge = Data(repeating: 0xff, count: 8)
        huge.append(contentsOf: [0x7b, 0x7d])
        expect(
            huge,
            {
                if case .headerTooLarge = $0 { return true }
                return false
            }, "huge header length")
        expect(
            file(header: "{not json"),
            {
                if case .headerNotJSON = $0 { return true }
                return false
            }, "bad JSON")
        expect(
            file(header: "[1, 2]"),
            {
                if case .headerNotJSON = $0 { return true }
                return false
            }, "not an object")
        expect(
            file(header: #"{"x":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0]),
            { $0 == .unsupportedDType(tensor: "x", dtype: "F16") }, "dtype")
        expect(
            file(
                header: #"{"x":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, data: Array(repeating: 0, count: 8)),
            { $0 == .sizeMismatch(tensor: "x", shape: [3], bytes: 8) }, "shape vs span")
        expect(
            file(
                header: #"{"x":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#, data: Array(repeating: 0, count: 8)
            ),
            { $0 == .outOfBounds(tensor: "x", range: [4, 12], dataLength: 8) }, "offset past end")
        expect(
            file(
                header: #"{"x":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}}"#, data: Array(repeating: 0, count: 8)),
            {
                if case .outOfBounds = $0 { return true }
                return false
            }, "reversed offsets")
        expect(
            file(
                header:
                    #"{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"y":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#,
                data: Array(repeating: 0, count: 8)),
            {
                if case .overlap = $0 { return true }
                return false
            }, "overlap")
        expect(
            file(header: #"{"x":{"dtype":"F32","shape":[-1],"data_offsets":[0,0]}}"#),
            {
                if case .badEntry = $0 { return true }
                return false
            }, "negative dim")
        expect(
            file(header: #"{"x":{"dtype":"F32","shape":[1099511627776, 1099511627776],"data_offsets":[0,0]}}"#),
            {
                if case .sizeMismatch = $0 { return true }
                return false
            }, "overflowing shape")
        expect(
            file(header: #"{"__metadata__":{"a":1}}"#),
            {
                if case .badMetadata = $0 { return true }
                return false
            }, "metadata")
    }
}
