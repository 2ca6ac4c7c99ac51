import Foundation

/// One parser under fuzzing: its name (the corpus folder and `scripts/fuzz.sh TARGET`), the
/// largest input libFuzzer should try, valid seed inputs, and the call that must never trap.
struct FuzzTarget: Sendable {
    let name: String
    let maxLen: Int
    let seeds: @Sendable () throws -> [String: [UInt8]]
    let body: @Sendable ([UInt8]) -> Void
}

/// The target chosen by `VERISPLIT_FUZZ_TARGET`, set once in `LLVMFuzzerInitialize`.
nonisolated(unsafe) var selected: FuzzTarget?

/// Before fuzzing: `VERISPLIT_FUZZ_LIST=1` prints "name max_len" per target and exits;
/// `VERISPLIT_FUZZ_SEEDS=dir` writes every target's seeds to dir/<name>/ and exits;
/// otherwise `VERISPLIT_FUZZ_TARGET` names the target to fuzz.
@_cdecl("LLVMFuzzerInitialize")
public func fuzzInitialize(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutableRawPointer) -> CInt {
    let env = ProcessInfo.processInfo.environment
    if env["VERISPLIT_FUZZ_LIST"] != nil {
        for t in targets { print(t.name, t.maxLen) }
        exit(0)
    }
    if let dir = env["VERISPLIT_FUZZ_SEEDS"] {
        do {
            for t in targets {
                let folder = URL(fileURLWithPath: dir).appendingPathComponent(t.name)
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
                for (name, bytes) in try t.seeds() { try Data(bytes).write(to: folder.appendingPathComponent(name)) }
            }
        } catch { fail("writing seeds failed: \(error)", code: 1) }
        exit(0)
    }
    let name = env["VERISPLIT_FUZZ_TARGET"] ?? ""
    guard let t = targets.first(where: { $0.name == name }) else {
        fail("set VERISPLIT_FUZZ_TARGET to one of: \(targets.map(\.name).joined(separator: " "))", code: 2)
    }
    selected = t
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    selected?.body(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}

func fail(_ message: String, code: Int32) -> Never {
    FileHandle.standardError.write(Data("verisplit-fuzz: \(message)\n".utf8))
    exit(code)
}

/// SwiftPM links executables with `main` aliased to `<target>_main` (so tests can import
/// them); that keeps libFuzzer's own `main` out of the link, so this one starts its driver.
@_cdecl("verisplit_fuzz_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    var count = argc
    var args: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = argv
    return runFuzzerDriver(&count, &args, fuzzOne)
}

@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(_ argc: UnsafeMutablePointer<CInt>,
                     _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                     _ body: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt
