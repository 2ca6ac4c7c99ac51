import Algebra
import Foundation
import SplitLearning
import XCTest

/// The `split` commands' logic as library calls (what the CLI only parses and prints): option
/// parsing, the checks before a party starts, the verdicts that become exit statuses, and the
/// offline record check with its anchors.
final class PartyCommandTests: XCTestCase {
    func testEndpointModeAndAdversaryParsing() throws {
        XCTAssertEqual(try Endpoint(parsing: "127.0.0.1:7000", flag: "--listen").port, 7000)
        XCTAssertEqual(try Endpoint(parsing: "[::1]:80", flag: "--connect").host, "[::1]")
        for bad in ["localhost", "h:", "h:70000", "h:-1", "h:7x"] {
            XCTAssertThrowsError(try Endpoint(parsing: bad, flag: "--listen"), bad) {
                guard case .invalidArgument(let reason)? = $0 as? SplitError else { return XCTFail("\($0)") }
                XCTAssertTrue(reason.hasPrefix("--listen must be HOST:PORT"), reason)
            }
        }
        XCTAssertEqual(try SplitMode.parseList("verified,ledger"), [.verified, .ledger])
        XCTAssertThrowsError(try SplitMode.parseList("verified,fast"))
        XCTAssertThrowsError(try Adversary.parse("everyone"))
        XCTAssertEqual(try Adversary.parse("none"), Adversary.none)
    }

    /// Settings out of range are refused before any key is loaded or socket opened.
    func testPartiesRefuseSettingsBeforeStarting() throws {
        let keys = KeySource(spec: "/nonexistent/spec.json")
        let endpoint = try Endpoint(parsing: "127.0.0.1:0", flag: "--listen")
        var server = ServerProcess(endpoint: endpoint, keys: keys)
        server.maxConnections = 0
        XCTAssertThrowsError(try server.setup()) { XCTAssertInvalidArgument($0, "--max-connections") }
        server.maxConnections = 1
        server.options.modes = [.verified]
        XCTAssertThrowsError(try server.setup()) { XCTAssertInvalidArgument($0, "modes with proofs need --keys") }

        var client = ClientProcess(endpoint: endpoint, keys: keys)
        client.options.pipelineDepth = 65
        XCTAssertThrowsError(try client.setup()) { XCTAssertInvalidArgument($0, "--steps must be >= 1") }
        client.options.pipelineDepth = 4
        XCTAssertThrowsError(try client.setup()) { XCTAssertInvalidArgument($0, "mode verified needs --keys") }

        XCTAssertThrowsError(
            try LoadTestConfiguration(
                mode: "ledger", honest: 1000, garbage: 20, stalling: 5, steps: 1, maxConnections: 1,
                idleTimeoutSeconds: 1, timeLimitSeconds: 1)
        ) { XCTAssertInvalidArgument($0, "client counts") }
        XCTAssertThrowsError(
            try LoadTestConfiguration(
                mode: "fast", honest: 1, garbage: 0, stalling: 0, steps: 1, maxConnections: 1, idleTimeoutSeconds: 1,
                timeLimitSeconds: 1)
        ) { XCTAssertInvalidArgument($0, "--mode must be one of") }

        var grid = try LocalRunGrid(
            keys: keys, mode: "all", adversary: "all", steps: 1, attackStep: 1, pipelineDepth: 4, fixedSchedule: nil,
            state: nil, resume: false, data: .bundled, evaluate: false, logger: .split)
        XCTAssertEqual(grid.modes, SplitMode.allCases)
        XCTAssertThrowsError(try grid.setup()) { XCTAssertInvalidArgument($0, "--steps must exceed --attack-step") }
        grid.adversaries = [.none]
        XCTAssertThrowsError(try grid.setup()) { XCTAssertNotNil($0 as? FileError, "\($0)") }
    }

    /// `split run`'s exit status: a single honest run fails on a refusal (1) or any other early
    /// end (2); a dishonest one fails unless its mode caught it exactly when it should; a grid
    /// fails (1) when any combination was not handled as expected.
    func testRunVerdicts() throws {
        let caught = try XCTUnwrap(Adversary.allCases.first { $0 != .none && $0.isCaught(by: .verified) })
        let missedMode = try XCTUnwrap(SplitMode.allCases.first { !caught.isCaught(by: $0) })
        func run(_ mode: SplitMode, _ adversary: Adversary, rejected: Bool, reason: String?) -> LocalRunReport {
            LocalRunReport(
                mode: mode, adversary: adversary, stepsCompleted: 1, rejected: rejected, rejection: nil,
                reason: reason, rejectedBy: rejected ? .client : nil, session: nil, transcriptHead: nil,
                client: PartyStats(), server: PartyStats(), testAccuracy: nil)
        }
        let honest = run(.verified, .none, rejected: false, reason: nil)
        XCTAssertEqual(LocalRunGridReport(runs: [honest]).verdict, .ok)
        XCTAssertEqual(LocalRunGridReport(runs: [run(.verified, .none, rejected: true, reason: "x")]).verdict, .invalid)
        XCTAssertEqual(
            LocalRunGridReport(runs: [run(.verified, .none, rejected: false, reason: "timeout")]).verdict, .badInput)
        XCTAssertEqual(LocalRunGridReport(runs: [run(.verified, caught, rejected: true, reason: "x")]).verdict, .ok)
        XCTAssertEqual(
            LocalRunGridReport(runs: [run(.verified, caught, rejected: false, reason: nil)]).verdict, .invalid)
        XCTAssertEqual(LocalRunGridReport(runs: [run(missedMode, caught, rejected: false, reason: nil)]).verdict, .ok)
        let grid = [honest, run(.verified, caught, rejected: true, reason: "x")]
        XCTAssertEqual(LocalRunGridReport(runs: grid).verdict, .ok)
        XCTAssertEqual(
            LocalRunGridReport(runs: grid + [run(missedMode, caught, rejected: true, reason: "x")]).verdict, .invalid)
        XCTAssertTrue(LocalRunGridReport(runs: grid).text.contains("caught"))
        XCTAssertTrue(LocalRunGridReport(runs: grid).json.hasPrefix("["))
    }

    /// `split client`'s exit status follows the session's end.
    func testClientVerdicts() {
        var o = SessionOutcome()
        XCTAssertEqual(ClientReport(o).verdict, .ok)
        o.reason = "connection: reset"
        XCTAssertEqual(ClientReport(o).verdict, .badInput)
        o.interrupted = true
        XCTAssertEqual(ClientReport(o).verdict, .ok)
        o.peerRejected = true
        XCTAssertEqual(ClientReport(o).verdict, .invalid)
        o.peerRejected = false
        o.rejected = true
        XCTAssertEqual(ClientReport(o).verdict, .invalid)
        XCTAssertTrue(ClientReport(o).text.contains("rejected the server's message"))
    }

    /// `split verify-transcript`: a ledger record needs an anchor; the peer's head anchors it,
    /// a wrong head makes the check invalid (exit 1), and unreadable input is an error (exit 2).
    func testRecordCheckAnchors() async throws {
        let state = Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: state) }
        let run = try await Fixture.run(.ledger, steps: 2, state: state, schedule: nil)
        XCTAssertFalse(run.report.rejected, run.report.reason ?? "")
        let specFile = state.appendingPathComponent("spec.json")
        try tinySpecJSON.write(to: specFile)
        let keys = KeySource(spec: specFile.path)
        let record = state.appendingPathComponent("client/record.jsonl").path
        let head = try XCTUnwrap(run.report.transcriptHead)

        XCTAssertThrowsError(try RecordCheck(record: record, keys: keys).inputs()) {
            XCTAssertInvalidArgument($0, "a ledger record has no proofs")
        }
        XCTAssertThrowsError(try RecordCheck(record: record, keys: keys, peer: record, expectHead: head.hex).inputs()) {
            XCTAssertInvalidArgument($0, "give --peer or --expect-head, not both")
        }
        XCTAssertThrowsError(try RecordCheck(record: record, keys: keys, expectHead: "zz").inputs())
        XCTAssertThrowsError(try RecordCheck(record: record + ".missing", keys: keys, expectHead: head.hex).inputs())

        let valid = RecordCheck.verify(try RecordCheck(record: record, keys: keys, expectHead: head.hex).inputs())
        XCTAssertEqual(valid.verdict, .ok)
        guard case .valid(let report) = valid else { return XCTFail("\(valid)") }
        XCTAssertEqual(report.steps, 2)
        XCTAssertEqual(report.anchor, .transcriptHead)
        XCTAssertTrue(valid.rendered(json: true).hasPrefix("{\"valid\": \"true\""), valid.rendered(json: true))

        let wrongHead = String(repeating: "0", count: 64)
        let invalid = RecordCheck.verify(try RecordCheck(record: record, keys: keys, expectHead: wrongHead).inputs())
        XCTAssertEqual(invalid.verdict, .invalid)
        XCTAssertTrue(invalid.rendered(json: false).hasPrefix("INVALID: "))
    }

    func testLoadTestVerdict() throws {
        let line = """
            {"honest_completed": 2, "honest_expected": 2, "honest_intact": 2, "garbage_refused": 1,
             "stalling_closed": 1, "seconds": 1, "peak_rss_mb": 10, "rss_growth_mb": 1, "failures": []}
            """
        var report = try JSONDecoder().decode(LoadTestReport.self, from: Data(line.utf8))
        XCTAssertEqual(report.verdict, .ok)
        report.honestIntact = 1
        XCTAssertEqual(report.verdict, .invalid)
        let c = try LoadTestConfiguration(
            mode: "ledger", honest: 2, garbage: 3, stalling: 4, steps: 1, maxConnections: 1, idleTimeoutSeconds: 1,
            timeLimitSeconds: 1)
        XCTAssertTrue(report.text(c).contains("garbage connections refused 1/3"), report.text(c))
    }
}

/// The error is `SplitError.invalidArgument` and its message starts with `prefix`.
func XCTAssertInvalidArgument(_ error: Error, _ prefix: String, line: UInt = #line) {
    guard case .invalidArgument(let reason)? = error as? SplitError else { return XCTFail("\(error)", line: line) }
    XCTAssertTrue(reason.hasPrefix(prefix), reason, line: line)
}
