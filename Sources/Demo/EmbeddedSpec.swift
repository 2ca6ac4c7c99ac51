import Foundation
import ZKML

/// `circuits/split-c4.json` (the demo's spec: 4 channels at the cut, 10 fraction bits, a batch
/// of 16 and a step-decay learning rate from 2^-1 to 2^-5 over 2,000 steps, whose plain
/// fixed-point model reaches 80 % on the bundled test images), embedded byte for byte so
/// `verisplit demo` runs from any directory (and its spec hash equals the file's). `DemoTests`
/// checks that it still equals the file.
public enum EmbeddedSpec {
    public static let name = "circuits/split-c4.json"
    public static var data: Data { Data((json + "\n").utf8) }
    static let json = """
        {
          "name": "split-c4",
          "input": {"channels": 1, "height": 28, "width": 28, "bits": 8},
          "client": {"out_channels": 4, "kernel": 7, "stride": 7},
          "server": {"outputs": 10},
          "fraction_bits": 10,
          "value_bits": 24,
          "batch": 16,
          "loss": "softmax-cross-entropy",
          "learning_rate_shift": 1,
          "learning_rate_schedule": [
            {"from_step": 500, "shift": 2},
            {"from_step": 1000, "shift": 3},
            {"from_step": 1400, "shift": 4},
            {"from_step": 1800, "shift": 5}
          ],
          "commitment": "poseidon-t17",
          "dataset_depth": 12
        }
        """

    /// The embedded spec, parsed (nil only if the embedded text were broken; a test loads it).
    static var spec: CircuitSpec? { try? CircuitSpec.load(data, file: name) }

    /// The architecture in words, for the demo's overview.
    static func architecture(_ spec: CircuitSpec) -> String {
        let c = spec.client, i = spec.input
        let rates = ([spec.learningRateShift] + (spec.learningRateSchedule ?? []).map(\.shift)).map { "2^-\($0)" }
        return
            "client Conv2d \(i.channels)->\(c.outChannels), \(c.kernel)x\(c.kernel) stride \(c.stride) + ReLU on "
            + "\(i.height)x\(i.width), cut \(spec.cutWidth) wide, server Dense \(spec.cutWidth)->\(spec.server.outputs), "
            + "softmax cross-entropy, \(spec.fractionBits) fraction bits; \(spec.batch) samples per step, learning "
            + "rate \(rates.joined(separator: " -> ")) by step, proved by the batched circuits"
    }
}
