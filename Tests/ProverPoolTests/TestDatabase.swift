import Foundation
import XCTest

/// The PostgreSQL server the pool tests use: `VERISPLIT_TEST_DATABASE_URL` when set (`.ci/run`
/// starts a throw-away cluster and exports it); otherwise a throw-away cluster of our own,
/// started here with the installed `initdb` (as the unprivileged user `nobody` when running as
/// root, since PostgreSQL refuses root) on a free loopback port, stopped when the process exits.
/// Each test works in a schema of its own, dropped at its end.
enum TestDatabase {
    struct Cluster: Sendable {
        let url: String
        let stop: @Sendable () -> Void
        /// Restarts the server (fast shutdown: every connection is cut); nil for a cluster we
        /// did not start.
        var restart: (@Sendable () throws -> Void)?
    }

    static let cluster: Result<Cluster, SkipReason> = {
        if let url = ProcessInfo.processInfo.environment["VERISPLIT_TEST_DATABASE_URL"], !url.isEmpty {
            return .success(Cluster(url: url, stop: {}))
        }
        let started = startOwnCluster()
        if case .success(let cluster) = started {
            stopAtExit = cluster.stop
            atexit { TestDatabase.stopAtExit?() }
        }
        return started
    }()

    struct SkipReason: Error, CustomStringConvertible { let description: String }

    /// The base URL, or an `XCTSkip` saying loudly why there is none.
    static func url() throws -> String {
        switch cluster {
        case .success(let cluster): return cluster.url
        case .failure(let reason):
            let message =
                "PROVER POOL DATABASE TESTS SKIPPED: \(reason). Set VERISPLIT_TEST_DATABASE_URL or install PostgreSQL (.ci/run does both)."
            FileHandle.standardError.write(Data(("\n*** " + message + " ***\n").utf8))
            throw XCTSkip(message)
        }
    }

    static func findBinary(_ name: String) -> String? {
        let root = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).sorted {
            (Int($0) ?? 0) > (Int($1) ?? 0)
        }
        for version in versions {
            let path = "\(root)/\(version)/bin/\(name)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }

    /// Runs a command to its end with output to a file. posix_spawn and waitpid rather than
    /// Foundation's `Process`: `pg_ctl start` leaves a server running that inherits what the
    /// spawner hands it, and `Process` then never reports the exit.
    @discardableResult
    static func run(_ arguments: [String], asUser user: String?) throws -> (status: Int32, output: String) {
        let argv = user.map { ["/usr/sbin/runuser", "-u", $0, "--"] + arguments } ?? arguments
        let output = FileManager.default.temporaryDirectory.appendingPathComponent(
            "verisplit-pg-cmd-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: output) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var cArguments = argv.map { strdup($0) } + [nil]
        defer { for pointer in cArguments { free(pointer) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, argv[0], &actions, nil, &cArguments, environ)
        guard spawned == 0 else { throw SkipReason(description: "cannot run \(argv[0]) (errno \(spawned))") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let text = String(decoding: (try? Data(contentsOf: output)) ?? Data(), as: UTF8.self)
        let exited = (status & 0x7f) == 0
        return (exited ? (status >> 8) & 0xff : -1, text)
    }

    static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    static func startOwnCluster() -> Result<Cluster, SkipReason> {
        guard let initdb = findBinary("initdb"), let pgctl = findBinary("pg_ctl") else {
            return .failure(
                SkipReason(
                    description: "VERISPLIT_TEST_DATABASE_URL is unset and no initdb/pg_ctl under /usr/lib/postgresql"))
        }
        let root = getuid() == 0
        let user: String? = root ? "nobody" : nil
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "verisplit-pg-\(UUID().uuidString)")
        let data = directory.appendingPathComponent("data").path
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            if root { _ = try run(["/bin/chown", "nobody", directory.path], asUser: nil) }
            let port = freePort()
            let initialized = try run(
                [initdb, "-D", data, "-U", "verisplit", "-A", "trust", "--no-sync", "-E", "UTF8"], asUser: user)
            guard initialized.status == 0 else {
                return .failure(SkipReason(description: "initdb failed: \(initialized.output)"))
            }
            let options =
                "-p \(port) -k \(directory.path) -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
            let started = try run(
                [pgctl, "-D", data, "-o", options, "-l", directory.appendingPathComponent("log").path, "-w", "start"],
                asUser: user)
            guard started.status == 0 else {
                return .failure(SkipReason(description: "pg_ctl start failed: \(started.output)"))
            }
            let stop: @Sendable () -> Void = {
                _ = try? run([pgctl, "-D", data, "-m", "immediate", "stop"], asUser: user)
                try? FileManager.default.removeItem(at: directory)
            }
            let restart: @Sendable () throws -> Void = {
                // Bounded (-t): pg_ctl gives up after 60 s rather than hanging the test.
                let log = directory.appendingPathComponent("log").path
                let restarted = try run(
                    [pgctl, "-D", data, "-m", "fast", "-w", "-t", "60", "-l", log, "restart"], asUser: user)
                guard restarted.status == 0 else {
                    throw SkipReason(description: "pg_ctl restart failed: \(restarted.output)")
                }
            }
            return .success(
                Cluster(url: "postgres://verisplit@127.0.0.1:\(port)/postgres", stop: stop, restart: restart))
        } catch {
            return .failure(SkipReason(description: "starting a throw-away cluster failed: \(error)"))
        }
    }

    nonisolated(unsafe) static var stopAtExit: (@Sendable () -> Void)?

    /// A fresh schema name for one test.
    static func schemaURL(_ base: String) -> (url: String, schema: String) {
        let schema = "t_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(16)
        let separator = base.contains("?") ? "&" : "?"
        return (base + separator + "schema=" + schema, String(schema))
    }
}
