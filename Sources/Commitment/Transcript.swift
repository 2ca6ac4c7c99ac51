import Algebra
import Foundation

/// Why a transcript failed to verify or to decode.
public enum TranscriptError: Error, Equatable, CustomStringConvertible {
    /// The bytes are not JSON of the transcript's shape.
    case malformedJSON(String)
    case unsupportedVersion(Int)
    /// A field holds a bad value (hex that is not hex, a digest of the wrong length).
    case invalidField(entry: Int, field: String, reason: String)
    /// The entry at `position` carries index `found` (an entry was removed, inserted or moved).
    case indexMismatch(position: Int, found: Int)
    /// Entry `index` does not point at the previous entry's link (or the genesis digest).
    case brokenChain(index: Int)
    /// Entry `index`'s link is not the hash of its contents (the entry was changed).
    case badLink(index: Int)
    /// The chain is intact but ends elsewhere than the head the caller trusts (truncation).
    case headMismatch(expected: Digest, found: Digest)

    public var description: String {
        switch self {
        case .malformedJSON(let m): return "transcript JSON is malformed: \(m)"
        case .unsupportedVersion(let v): return "transcript version \(v) is not supported (expected 1)"
        case .invalidField(let i, let f, let r): return "transcript entry \(i) field '\(f)': \(r)"
        case .indexMismatch(let p, let f): return "transcript entry at position \(p) has index \(f)"
        case .brokenChain(let i): return "transcript entry \(i) does not chain to the previous entry"
        case .badLink(let i): return "transcript entry \(i) was altered: its link does not match its contents"
        case .headMismatch(let e, let f): return "transcript head is \(f.hex), expected \(e.hex)"
        }
    }
}

/// One transcript entry: a labelled payload, the previous link, and its own link.
public struct TranscriptEntry: Hashable, Sendable {
    public let index: Int
    public let label: String
    public let payload: [UInt8]
    public let previous: Digest
    public let link: Digest
}

/// An append-only, hash-chained log (the protocol's transcript and the ledger baseline).
///
/// link_i = SHA-256("VeriSplit/Transcript/v1" || 0x00 || i || link_{i-1} || len(label) || label ||
/// len(payload) || payload), integers as 8 bytes big-endian, with link_{-1} the genesis digest
/// SHA-256("VeriSplit/Transcript/v1" || 0x01 || session). Each link commits to the whole history, so
/// changing, removing, inserting or reordering any entry breaks `verify()` (SHA-256 collision
/// resistance). Dropping entries from the end leaves a shorter valid chain: parties that must detect
/// truncation compare with a head they kept (`verify(expectedHead:)`). Cost: one SHA-256 per entry.
public struct Transcript: Sendable, Equatable {
    public static let domain = "VeriSplit/Transcript/v1"
    public static let version = 1

    public let session: String
    public private(set) var entries: [TranscriptEntry] = []

    public init(session: String) { self.session = session }

    /// The digest the first entry chains to.
    public var genesis: Digest { .sha256(Array(Self.domain.utf8) + [0x01] + Array(session.utf8)) }

    /// The latest link (the genesis digest for an empty transcript).
    public var head: Digest { entries.last?.link ?? genesis }

    public static func linkHash(index: Int, label: String, payload: [UInt8], previous: Digest) -> Digest {
        let labelBytes = Array(label.utf8)
        var data = Array(domain.utf8) + [0x00]
        data += bigEndian(UInt64(index)) + previous.bytes
        data += bigEndian(UInt64(labelBytes.count)) + labelBytes
        data += bigEndian(UInt64(payload.count)) + payload
        return .sha256(data)
    }

    /// Appends an entry and returns the new head.
    @discardableResult
    public mutating func append(label: String, payload: [UInt8]) -> Digest {
        let index = entries.count
        let previous = head
        let link = Self.linkHash(index: index, label: label, payload: payload, previous: previous)
        entries.append(TranscriptEntry(index: index, label: label, payload: payload, previous: previous, link: link))
        return link
    }

    /// Drops every entry after the first `count`: a party resuming a session from an earlier
    /// checkpoint rewinds its transcript to that point.
    public mutating func truncate(toCount count: Int) {
        if count < entries.count { entries.removeSubrange(max(count, 0)...) }
    }

    /// Re-checks every entry: consecutive indices, each `previous` equal to the prior link (the
    /// genesis for the first), and each link recomputed from the entry's contents.
    public func verify() throws(TranscriptError) {
        var expectedPrevious = genesis
        for (position, entry) in entries.enumerated() {
            guard entry.index == position else { throw .indexMismatch(position: position, found: entry.index) }
            guard entry.previous == expectedPrevious else { throw .brokenChain(index: position) }
            let link = Self.linkHash(
                index: entry.index, label: entry.label, payload: entry.payload, previous: entry.previous)
            guard link == entry.link else { throw .badLink(index: position) }
            expectedPrevious = link
        }
    }

    /// `verify()` and a check that the chain ends at a head the caller kept (detects truncation).
    public func verify(expectedHead: Digest) throws(TranscriptError) {
        try verify()
        guard head == expectedHead else { throw .headMismatch(expected: expectedHead, found: head) }
    }

    // MARK: JSON

    private struct EntryJSON: Codable {
        var index: Int
        var label: String
        var payload: String
        var previous: String
        var link: String
    }

    private struct FileJSON: Codable {
        var version: Int
        var session: String
        var entries: [EntryJSON]
    }

    /// {"version": 1, "session": ..., "entries": [{"index", "label", "payload" (hex), "previous"
    /// (hex), "link" (hex)}]}, keys sorted.
    public func jsonData() -> Data {
        let file = FileJSON(
            version: Self.version, session: session,
            entries: entries.map {
                EntryJSON(
                    index: $0.index, label: $0.label, payload: SHA256.hex($0.payload),
                    previous: $0.previous.hex, link: $0.link.hex)
            })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        do { return try encoder.encode(file) } catch {
            preconditionFailure("encoding strings and integers cannot fail: \(error)")
        }
    }

    /// Decodes and then verifies the chain; any defect is a typed error, never a crash.
    public init(json: Data) throws(TranscriptError) {
        let file: FileJSON
        do { file = try JSONDecoder().decode(FileJSON.self, from: json) } catch {
            throw .malformedJSON(String(describing: error).prefix(300).description)
        }
        guard file.version == Self.version else { throw .unsupportedVersion(file.version) }
        session = file.session
        for (position, e) in file.entries.enumerated() {
            guard let payload = Hex.decode(e.payload) else {
                throw .invalidField(entry: position, field: "payload", reason: "not an even number of hex digits")
            }
            let previous: Digest, link: Digest
            do { previous = try Digest(hex: e.previous) } catch {
                throw .invalidField(entry: position, field: "previous", reason: error.description)
            }
            do { link = try Digest(hex: e.link) } catch {
                throw .invalidField(entry: position, field: "link", reason: error.description)
            }
            entries.append(
                TranscriptEntry(index: e.index, label: e.label, payload: payload, previous: previous, link: link))
        }
        try verify()
    }
}

/// Bytes from hex digits (either case), or nil: `Hex.decode`, under the name SplitLearning's
/// record coder calls (kept so that file need not change with the support module).
public func decodeHex(_ text: String) -> [UInt8]? { Hex.decode(text) }
