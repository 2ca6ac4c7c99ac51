import Foundation
import Logging
import NIOSSL
import PostgresNIO

/// Where the pool lives: a PostgreSQL database and a schema in it, parsed from
/// `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?schema=NAME&sslmode=disable|require]`.
/// The schema (default `verisplit`) lets several pools, or several test runs, share a database.
public struct PoolLocation: Sendable, Equatable {
    public var host: String
    public var port: Int
    public var username: String
    public var password: String?
    public var database: String
    public var schema: String
    public var requireTLS: Bool

    public init(url: String) throws(PoolError) {
        guard let components = URLComponents(string: url), let scheme = components.scheme else {
            throw .badURL(url, reason: "not a URL")
        }
        guard scheme == "postgres" || scheme == "postgresql" else {
            throw .badURL(url, reason: "the scheme must be postgres://")
        }
        guard let host = components.host, !host.isEmpty else { throw .badURL(url, reason: "no host") }
        guard let user = components.user, !user.isEmpty else { throw .badURL(url, reason: "no user name") }
        let database = String(components.path.drop { $0 == "/" })
        guard !database.isEmpty, !database.contains("/") else {
            throw .badURL(url, reason: "no database name after the host")
        }
        self.host = host
        port = components.port ?? 5432
        guard (1...65535).contains(port) else { throw .badURL(url, reason: "port \(port) out of range") }
        username = user
        password = components.password
        self.database = database
        var schema = "verisplit"
        var tls = false
        for item in components.queryItems ?? [] {
            switch item.name {
            case "schema": schema = item.value ?? ""
            case "sslmode":
                switch item.value ?? "" {
                case "disable": tls = false
                case "require": tls = true
                default: throw .badURL(url, reason: "sslmode must be disable or require")
                }
            default: throw .badURL(url, reason: "unknown parameter \(item.name)")
            }
        }
        try Self.validateSchema(schema)
        self.schema = schema
        requireTLS = tls
    }

    /// A schema name is spliced into SQL (identifiers cannot be bound), so it is restricted to
    /// a plain identifier that needs no quoting.
    public static func validateSchema(_ name: String) throws(PoolError) {
        let bytes = Array(name.utf8)
        guard (1...40).contains(bytes.count), let first = bytes.first,
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(first),
            bytes.allSatisfy({
                (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0)
                    || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || $0 == UInt8(ascii: "_")
            })
        else { throw .badSchemaName(name) }
    }

    func clientConfiguration() -> PostgresClient.Configuration {
        let tls: PostgresClient.Configuration.TLS =
            requireTLS ? .require(TLSConfiguration.makeClientConfiguration()) : .disable
        var configuration = PostgresClient.Configuration(
            host: host, port: port, username: username, password: password,
            database: database, tls: tls)
        configuration.options.maximumConnections = 64
        return configuration
    }

    /// The configuration of a connection of its own (a notifier's LISTEN connection, which must
    /// not be leased from the shared pool; see `Notifier`).
    func connectionConfiguration() throws(PoolError) -> PostgresConnection.Configuration {
        var tls = PostgresConnection.Configuration.TLS.disable
        if requireTLS {
            do {
                tls = .require(try NIOSSLContext(configuration: TLSConfiguration.makeClientConfiguration()))
            } catch {
                throw .database("cannot set up TLS for \(host):\(port) (\(error))")
            }
        }
        return PostgresConnection.Configuration(
            host: host, port: port, username: username, password: password, database: database, tls: tls)
    }
}

/// A running connection pool to the proof pool's database, with the schema migrated. Every
/// party service and worker in a process can share one.
public final class PoolDatabase: Sendable {
    public let location: PoolLocation
    let client: PostgresClient
    let logger: Logger
    private let runner: Task<Void, Never>
    let schema: PoolSchema
    /// For connections outside the shared pool (LISTEN).
    let listenConfiguration: PostgresConnection.Configuration

    /// Connects, then creates or upgrades the schema (idempotent; concurrent callers serialise
    /// on an advisory lock).
    public static func open(
        _ location: PoolLocation, logger: Logger = Logger(label: "verisplit.pool")
    ) async throws(PoolError) -> PoolDatabase {
        let database = PoolDatabase(
            location: location, listenConfiguration: try location.connectionConfiguration(), logger: logger)
        // Let the client's run loop start before the first query leases a connection (a query
        // would wait for it anyway, with a warning in the log).
        try? await Task.sleep(for: .milliseconds(20))
        do {
            try await database.schema.migrate(database.client, logger: logger)
        } catch {
            database.close()
            throw error
        }
        return database
    }

    private init(location: PoolLocation, listenConfiguration: PostgresConnection.Configuration, logger: Logger) {
        self.location = location
        self.listenConfiguration = listenConfiguration
        self.logger = logger
        let client = PostgresClient(configuration: location.clientConfiguration(), backgroundLogger: logger)
        self.client = client
        runner = Task { await client.run() }
        schema = PoolSchema(name: location.schema)
    }

    /// Closes every connection; queries after this fail.
    public func close() { runner.cancel() }

    deinit { runner.cancel() }

    /// Runs `query` and returns its rows decoded as `T`, with database errors as `PoolError`.
    func rows<each T: PostgresDecodable & Sendable>(
        _ query: PostgresQuery, as types: (repeat each T).Type = (repeat each T).self
    )
        async throws(PoolError) -> [(repeat each T)]
    {
        do {
            var out: [(repeat each T)] = []
            for try await row in try await client.query(query, logger: logger).decode((repeat each T).self) {
                out.append(row)
            }
            return out
        } catch {
            throw .database(String(reflecting: error))
        }
    }

    func execute(_ query: PostgresQuery) async throws(PoolError) {
        do { try await client.query(query, logger: logger) } catch { throw .database(String(reflecting: error)) }
    }
}

extension PoolDatabase {
    /// One integer from a query (`SELECT count(*)::bigint ...`).
    public func scalar(_ sql: String) async throws(PoolError) -> Int64 {
        try await rows(PostgresQuery(unsafeSQL: sql), as: Int64.self).first ?? 0
    }

    /// One text value from a query (tests, operations).
    public func text(_ sql: String) async throws(PoolError) -> String {
        try await rows(PostgresQuery(unsafeSQL: sql), as: String.self).first ?? ""
    }

    /// One statement (tests, operations).
    public func execute(sql: String) async throws(PoolError) {
        try await execute(PostgresQuery(unsafeSQL: sql))
    }
}
