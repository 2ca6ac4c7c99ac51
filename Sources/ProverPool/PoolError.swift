import Foundation

/// What can go wrong with the proof pool, each saying what, where and what to do.
public enum PoolError: Error, Equatable, CustomStringConvertible {
    /// The `--db` value is not a usable `postgres://` URL.
    case badURL(String, reason: String)
    /// A schema name that is not a plain lower-case identifier (it is spliced into SQL).
    case badSchemaName(String)
    /// The database said no (connection, SQL, permissions).
    case database(String)
    /// The job ended without a proof: failed (a permanent error, such as an unknown key or a
    /// malformed witness) or parked after its attempts ran out.
    case jobFailed(id: Int64, state: String, error: String)
    /// No worker finished the job in time.
    case timedOut(id: Int64, seconds: Double)
    /// A job row that cannot be proved as stored.
    case malformedJob(id: Int64, reason: String)
    /// A prover worker's keys directory.
    case keys(path: String, reason: String)

    public var description: String {
        switch self {
        case .badURL(let url, let reason):
            return
                "database URL \(url.redactingPassword): \(reason); expected postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?schema=NAME&sslmode=disable|require]"
        case .badSchemaName(let name):
            return "schema name \"\(name)\": use 1-40 characters a-z, 0-9 and _, starting with a letter"
        case .database(let reason): return "database: \(reason)"
        case .jobFailed(let id, let state, let error): return "proof job \(id) \(state): \(error)"
        case .timedOut(let id, let seconds):
            return
                "proof job \(id): no worker finished it within \(Int(seconds)) s; start `verisplit prover --db URL --keys DIR` workers on this database"
        case .malformedJob(let id, let reason): return "proof job \(id) is malformed: \(reason)"
        case .keys(let path, let reason): return "\(path): \(reason)"
        }
    }
}

extension String {
    /// The URL with its password replaced, for messages and logs.
    var redactingPassword: String {
        guard var components = URLComponents(string: self), components.password != nil else { return self }
        components.password = "***"
        return components.string ?? "(unprintable URL)"
    }
}
