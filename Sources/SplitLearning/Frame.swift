import Algebra
import Foundation
import NIOCore

/// What is wrong with a frame or its envelope, before any field of a message is read: a closed
/// set, so callers and tests match on the case (`Rejection.malformedFrame`).
public enum FrameFault: Sendable, Equatable, Codable, CustomStringConvertible {
    /// A length of 0 (every frame has at least its version byte).
    case empty
    /// A length above the receiver's bound, refused before any payload byte is buffered.
    case tooLarge(length: UInt64, limit: Int)
    case version(got: UInt8, expected: UInt8)
    /// The connection closed, or a byte stream ended, inside a frame.
    case truncated(bytesLeft: Int)
    /// The payload is not a serialized protocol envelope.
    case notAnEnvelope(String)
    /// An envelope that carries no message.
    case emptyEnvelope

    public var description: String {
        switch self {
        case .empty: return "empty frame (length 0)"
        case .tooLarge(let length, let limit): return "frame of \(length) bytes exceeds the \(limit)-byte limit"
        case .version(let got, let expected): return "protocol version \(got), this side speaks \(expected)"
        case .truncated(let left): return "the stream ends inside a frame (\(left) bytes left)"
        case .notAnEnvelope(let reason): return "not a protocol message (\(reason))"
        case .emptyEnvelope: return "an envelope without a message"
        }
    }
}

/// The wire framing: a 4-byte big-endian length L, then L bytes: the version byte and one
/// serialized protobuf `Envelope`. The length is checked against `maxFrameBytes` before a
/// single payload byte is buffered, so a peer cannot make us allocate more than that.
public enum Frame {
    public static let version: UInt8 = 1
    /// Default bound on one frame: the largest honest message (activations of a 64-channel
    /// 512x512 cut as varints, or a proof bundle) is far below this.
    public static let defaultMaxBytes = 4 << 20

    /// Splits one frame off the front of `buffer`: nil when more bytes are needed, the
    /// envelope bytes when a whole frame is there. Throws on a bad length or version; the
    /// caller closes the connection.
    public static func split(_ buffer: inout ByteBuffer, maxBytes: Int) throws(SplitError) -> ByteBuffer? {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self) else { return nil }
        guard length >= 1 else { throw .malformedFrame(.empty) }
        guard Int(length) <= maxBytes else { throw .malformedFrame(.tooLarge(length: UInt64(length), limit: maxBytes)) }
        guard buffer.readableBytes >= 4 + Int(length) else { return nil }
        buffer.moveReaderIndex(forwardBy: 4)
        // Both reads are within the readable bytes checked above.
        guard let version = buffer.readInteger(as: UInt8.self),
            let payload = buffer.readSlice(length: Int(length) - 1)
        else { return nil }
        guard version == Self.version else {
            throw .malformedFrame(.version(got: version, expected: Self.version))
        }
        return payload
    }

    /// Writes `envelope` (already serialized) as one frame.
    public static func write(_ envelope: [UInt8], into buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt32(envelope.count + 1))
        buffer.writeInteger(Self.version)
        buffer.writeBytes(envelope)
    }
}

/// NIO decoder for `Frame`: emits each frame's envelope bytes.
final class FrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = ByteBuffer
    let maxBytes: Int

    init(maxBytes: Int) { self.maxBytes = maxBytes }

    func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let payload = try Frame.split(&buffer, maxBytes: maxBytes) else { return .needMoreData }
        context.fireChannelRead(wrapInboundOut(payload))
        return .continue
    }

    func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        if buffer.readableBytes > 0 {
            throw SplitError.malformedFrame(.truncated(bytesLeft: buffer.readableBytes))
        }
        return .needMoreData
    }
}

/// NIO encoder for `Frame`: outbound messages are serialized envelopes.
final class FrameEncoder: MessageToByteEncoder {
    typealias OutboundIn = ByteBuffer

    func encode(data: ByteBuffer, out: inout ByteBuffer) throws {
        out.writeInteger(UInt32(data.readableBytes + 1))
        out.writeInteger(Frame.version)
        var data = data
        out.writeBuffer(&data)
    }
}

/// Bytes-in, messages-out decoding of a frame stream without a socket: what the fuzz target and
/// the frame tests drive. Every length is checked against `maxFrameBytes` before buffering, every
/// field element and proof in a message goes through the validating decoders the sessions use.
public enum FrameStream {
    /// The names of the messages in `bytes`, in order; throws at the first bad frame or field.
    /// Trailing bytes that do not make a whole frame are an error, as a connection closing
    /// inside a frame is.
    public static func decode(
        _ bytes: [UInt8], maxFrameBytes: Int = Frame.defaultMaxBytes
    ) throws(SplitError) -> [String] {
        var buffer = ByteBuffer(bytes: bytes)
        var names: [String] = []
        while buffer.readableBytes > 0 {
            guard let payload = try Frame.split(&buffer, maxBytes: maxFrameBytes) else {
                throw .malformedFrame(.truncated(bytesLeft: buffer.readableBytes))
            }
            do { names.append(try Wire.decode(Array(payload.readableBytesView)).name) } catch {
                throw .rejected(step: 0, error)
            }
        }
        return names
    }

    /// A valid stream of three frames (Hello, Activations, Reject): seeds for fuzzing and tests.
    public static func sample() -> [UInt8] {
        var hello = Message.Hello(
            dataset: DatasetAnnouncement(root: .zero, size: 1, scheduleCommitment: [], fixedScheduleSeed: 1))
        hello.mode = .verified
        hello.specHash = [UInt8](repeating: 7, count: 32)
        hello.clientNonce = [UInt8](repeating: 1, count: 32)
        hello.clientCommitment = Fr(12345)
        var activations = Message.Activations(
            step: 3, session: Fr(99), values: [0, 256, 1 << 20],
            samples: [Message.Sample(index: 0, label: 4, leaf: nil)])
        activations.salt = Fr(5)
        activations.commitment = Fr(6)
        var buffer = ByteBuffer()
        for message in [
            Message.hello(hello), .activations(activations),
            .reject(Message.RejectNotice(step: 3, kind: "proofInvalid", reason: "sample")),
        ] {
            Frame.write(Wire.encode(message), into: &buffer)
        }
        return Array(buffer.readableBytesView)
    }
}
