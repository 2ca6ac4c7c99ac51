import Algebra
import Foundation
import Groth16
import SwiftProtobuf

typealias Envelope = Verisplit_Split_V1_Envelope
typealias HelloMessage = Verisplit_Split_V1_Hello
typealias WelcomeMessage = Verisplit_Split_V1_Welcome
typealias ActivationsMessage = Verisplit_Split_V1_Activations
typealias GradientMessage = Verisplit_Split_V1_Gradient
typealias ProofMessage = Verisplit_Split_V1_ProofBundle
typealias RejectMessage = Verisplit_Split_V1_Reject
typealias FinishMessage = Verisplit_Split_V1_Finish

/// Conversions between wire bytes and validated values. Every decoder names the message and
/// field it read, so a rejection says exactly what was wrong.
enum Wire {
    static let protocolVersion: UInt32 = 1

    static func bytes(_ value: Fr) -> Data { Data(value.littleEndianBytes()) }

    /// A field element: exactly 32 bytes and below r (a non-canonical encoding would let one
    /// commitment travel under two spellings).
    static func field(_ data: Data, _ what: String, step: UInt64) throws(SplitError) -> Fr {
        do { return try Fr(littleEndian: Array(data)) } catch {
            throw .rejected(step: step, reason: "\(what): not a canonical field element (\(error))")
        }
    }

    static func bytes(_ proof: Proof) -> Data { Data(proof.ethereumBytes) }

    /// A proof: 256 bytes, every point on its curve and in its subgroup.
    static func proof(_ data: Data, _ what: String, step: UInt64) throws(SplitError) -> Proof {
        guard data.count == 256 else {
            throw .rejected(step: step, reason: "\(what): a proof is 256 bytes, got \(data.count)")
        }
        do { return try Proof(ethereumBytes: Array(data)) } catch {
            throw .rejected(step: step, reason: "\(what): invalid proof point (\(error))")
        }
    }

    static func serialize(_ body: Envelope.OneOf_Body) -> [UInt8] {
        var envelope = Envelope()
        envelope.body = body
        // Serializing a message built in memory cannot fail (no required fields, no Any).
        return (try? envelope.serializedBytes()) ?? []
    }

    static func parse(_ bytes: [UInt8]) throws(SplitError) -> Envelope.OneOf_Body {
        let envelope: Envelope
        do { envelope = try Envelope(serializedBytes: bytes) } catch {
            throw .malformedFrame("not a protocol message (\(error))")
        }
        guard let body = envelope.body else { throw .malformedFrame("an envelope without a message") }
        return body
    }
}

extension Envelope.OneOf_Body {
    var name: String {
        switch self {
        case .hello: return "Hello"
        case .welcome: return "Welcome"
        case .activations: return "Activations"
        case .gradient: return "Gradient"
        case .proof: return "ProofBundle"
        case .reject: return "Reject"
        case .finish: return "Finish"
        }
    }
}
