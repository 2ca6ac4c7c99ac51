/// Algebra re-exports the support module (bytes I/O, hex, SHA-256, JSON lines, the parallel-for,
/// `UnsafeSendable`, special functions), as swift-nio's umbrella module re-exports NIOCore: every
/// module built on Algebra uses those helpers without a second import, and there is one copy.
@_exported import Support
