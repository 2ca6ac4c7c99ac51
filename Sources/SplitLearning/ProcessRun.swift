import Foundation
import Logging
import NIOCore
import NIOPosix
import NeuralNet
import ZKML

/// A client in this process against a server in another OS process (`verisplit split server`,
/// started here), over loopback TCP: what `verisplit demo` runs, so the two parties share no
/// memory. The server writes its checkpoint and a session summary; the head's final weights are
/// read back from that checkpoint for the accuracy figure.
public enum ProcessRun {
    public static func run(
        setup: SessionSetup, serverExecutable: URL, train: Dataset, test: Dataset?,
        configuration c: LocalRunConfiguration, logger: Logger = .split
    ) async throws -> LocalRun.Result {
        guard let keys = setup.keys else { throw SplitError.invalidArgument("a two-process run needs keys") }
        let work = FileManager.default.temporaryDirectory.appendingPathComponent(
            "verisplit-server-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        let specURL = work.appendingPathComponent("spec.json")
        try setup.specData.write(to: specURL)
        try keys.write(to: work.appendingPathComponent("keys"))
        let summaryURL = work.appendingPathComponent("summary.jsonl")
        let port = try await freePort()

        let server = Process()
        server.executableURL = serverExecutable
        server.arguments =
            [
                "split", "server", "--listen", "127.0.0.1:\(port)", "--spec", specURL.path,
                "--keys", work.appendingPathComponent("keys").path, "--state",
                work.appendingPathComponent("state").path,
                "--seed", String(c.serverSeed), "--sessions", "1", "--summary", summaryURL.path,
                "--log-level", "error", "--modes", c.mode.rawValue,
            ] + (c.fixedScheduleSeed != nil ? ["--allow-fixed-schedule"] : [])
        server.standardOutput = FileHandle.nullDevice
        do { try server.run() } catch {
            throw SplitError.connection("cannot start the server process \(serverExecutable.path) (\(error))")
        }
        defer { if server.isRunning { server.terminate() } }

        // The server loads its keys before it listens: retry until it accepts, or it exits.
        let prepared = try SplitClient(setup: setup, data: train, options: c.clientOptions, logger: logger).prepare()
        var channel: FrameChannel?
        let deadline = Date().addingTimeInterval(120)
        while channel == nil {
            do {
                channel = try await Connector.connect(host: "127.0.0.1", port: port, tls: nil, limits: c.limits)
            } catch {
                guard server.isRunning, Date() < deadline else {
                    throw SplitError.connection("the server process did not start listening on port \(port)")
                }
                try await Task.sleep(nanoseconds: 200_000_000)
            }
        }
        guard let channel else { throw SplitError.connection("no connection") }
        let client = await prepared.run(over: channel)
        await waitForExit(server, seconds: 60)

        let serverOutcome = try readSummary(summaryURL)
        let head = try readHead(state: work.appendingPathComponent("state"), spec: setup.spec)
        var accuracy: Double?
        if let test, let conv = client.layer, let head {
            accuracy = try Evaluation.accuracy(conv: conv, head: head, spec: setup.spec, data: test)
        }
        let rejectedBy: Role? = client.outcome.rejected ? .client : (serverOutcome?.rejected ?? false) ? .server : nil
        let report = LocalRunReport(
            mode: c.mode, adversary: .none,
            stepsCompleted: min(client.outcome.completedSteps, serverOutcome?.completedSteps ?? 0),
            rejected: rejectedBy != nil, rejection: client.outcome.rejection ?? serverOutcome?.rejection,
            reason: client.outcome.reason ?? serverOutcome?.reason, rejectedBy: rejectedBy,
            session: client.outcome.session, transcriptHead: client.outcome.transcriptHead,
            client: client.outcome.stats,
            server: serverOutcome?.stats ?? PartyStats(), testAccuracy: accuracy)
        return LocalRun.Result(report: report, clientLayer: client.layer, serverLayer: head)
    }

    /// A port the kernel just handed out (bound and released: another process could take it
    /// first, in which case the server fails to bind and the run reports it).
    static func freePort() async throws -> Int {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(
            host: "127.0.0.1", port: 0
        ).get()
        let port = channel.localAddress?.port ?? 0
        try await channel.close()
        return port
    }

    static func waitForExit(_ process: Process, seconds: Double) async {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { try? await Task.sleep(nanoseconds: 100_000_000) }
    }

    static func readSummary(_ url: URL) throws -> SessionOutcome? {
        guard let data = try? SessionFiles.read(url),
            let line = data.split(separator: 0x0a).last
        else { return nil }
        return try? JSONDecoder().decode(SessionOutcome.self, from: Data(line))
    }

    /// The server head's weights after its last settled step, from its checkpoint.
    static func readHead(state: URL, spec: CircuitSpec) throws -> QuantizedDense? {
        let sessions = state.appendingPathComponent("sessions")
        guard
            let folder = try? FileManager.default.contentsOfDirectory(at: sessions, includingPropertiesForKeys: nil)
                .first,
            let checkpoint = try SessionFiles(directory: folder).readCheckpoint(),
            let snapshot = checkpoint.latest
        else { return nil }
        return try QuantizedDense(
            inputs: spec.cutWidth, outputs: spec.server.outputs, weights: snapshot.weights,
            bias: snapshot.bias, relu: false, format: spec.format)
    }
}
