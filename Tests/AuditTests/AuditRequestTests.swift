import Audit
import NeuralNet
import XCTest

/// The canary data preparation and the request checks that moved from the CLI into Audit.
final class AuditRequestTests: XCTestCase {
    /// 40 examples of 3 features, feature 0 = the example's index, labels 0...3 cycling.
    func pool() throws -> Dataset {
        let x = try Tensor(shape: [40, 3], storage: (0..<120).map { $0 % 3 == 0 ? Float($0 / 3) : 0 })
        return try Dataset(features: x, labels: (0..<40).map { $0 % 4 }, classCount: 4)
    }

    func testCanaryPreparationSplitsTheTrainSetWithoutOverlap() throws {
        var request = CanaryAuditRequest()
        (request.canaries, request.trainSize, request.seed, request.keepLabels) = (10, 25, 7, true)
        let train = try pool()
        let prepared = try request.prepare(train: train, test: train)
        XCTAssertEqual(prepared.canaries.count, 10)
        XCTAssertEqual(prepared.included.count, 10)
        XCTAssertEqual(prepared.base.count, 25)
        XCTAssertTrue(prepared.included.contains(true) && prepared.included.contains(false))
        let again = try request.prepare(train: train, test: train)
        XCTAssertEqual(again.included, prepared.included, "the preparation is seeded")
        XCTAssertEqual(again.base.features.storage, prepared.base.features.storage)
        // Base and canaries come from disjoint examples: feature 0 (the example index, standardized
        // by one affine map) never repeats across the two sets.
        let base = Set((0..<25).map { prepared.base.features.storage[3 * $0] })
        let canaries = Set((0..<10).map { prepared.canaries.features.storage[3 * $0] })
        XCTAssertEqual(base.count, 25)
        XCTAssertEqual(canaries.count, 10)
        XCTAssertTrue(base.isDisjoint(with: canaries))
    }

    func testCanaryPreparationRefusesImpossibleSizes() throws {
        let train = try pool()
        var request = CanaryAuditRequest()
        request.canaries = 40
        XCTAssertThrowsError(try request.prepare(train: train, test: train)) {
            guard case .invalidParameter(let name, _, _)? = $0 as? AuditError else { return XCTFail("\($0)") }
            XCTAssertEqual(name, "--canaries")
        }
        request.canaries = 10
        request.trainSize = 31
        XCTAssertThrowsError(try request.prepare(train: train, test: train)) {
            guard case .invalidParameter(let name, _, _)? = $0 as? AuditError else { return XCTFail("\($0)") }
            XCTAssertEqual(name, "--train-size")
        }
    }

    func testTrainersFollowTheMethodsAndEpsilons() throws {
        var request = CanaryAuditRequest()
        request.methods = [.plain, .dpweights]
        request.epsilons = [1, 8]
        XCTAssertEqual(try request.trainers().count, 3)
        request.methods = [.dpsgd]
        XCTAssertEqual(try request.trainers().count, 2)
    }

    func testMissingModelFileIsUnreadable() {
        XCTAssertThrowsError(try AuditInputs.model(path: "/nonexistent/model.safetensors", specArgument: nil)) {
            guard case .unreadable? = $0 as? AuditError else { return XCTFail("\($0)") }
        }
        XCTAssertThrowsError(try AuditInputs.data("/nonexistent/data.csv", members: true)) {
            guard case .unreadable? = $0 as? AuditError else { return XCTFail("\($0)") }
        }
    }
}

/// `audit canaries --methods` and the audit commands' cache option as library calls.
final class AuditOptionTests: XCTestCase {
    func testCanaryMethodListNamesTheFirstUnknownEntry() {
        XCTAssertEqual(CanaryAuditRequest.Method.list("plain, dpweights").methods, [.plain, .dpweights])
        XCTAssertNil(CanaryAuditRequest.Method.list("plain, dpweights").unknown)
        XCTAssertEqual(CanaryAuditRequest.Method.list("dpsgd,dp-sgd,nope").unknown, "dp-sgd")
    }

    func testShadowCacheDirectoryOption() {
        XCTAssertNil(ShadowCache.directory(path: "/tmp/x", disabled: true))
        XCTAssertEqual(ShadowCache.directory(path: "/tmp/x", disabled: false)?.path, "/tmp/x")
        XCTAssertEqual(ShadowCache.directory(path: nil, disabled: false), ShadowCache.defaultDirectory)
    }
}
