import Foundation

/// `circuits/split-b16.json` (the `split.json` architecture with a batch of 16, its learning rate
/// raised for the mean gradient and a dataset tree sized for the bundled 4,000 images), embedded
/// byte for byte so `verisplit demo` runs from any directory (and its spec hash equals the
/// file's). `DemoTests` checks that it still equals the file.
public enum EmbeddedSpec {
    public static let name = "circuits/split-b16.json"
    public static var data: Data { Data((json + "\n").utf8) }
    static let json = """
        {
          "name": "split-b16",
          "input": {"channels": 1, "height": 28, "width": 28, "bits": 8},
          "client": {"out_channels": 2, "kernel": 7, "stride": 7},
          "server": {"outputs": 10},
          "fraction_bits": 8,
          "value_bits": 24,
          "batch": 16,
          "loss": "softmax-cross-entropy",
          "learning_rate_shift": 2,
          "commitment": "poseidon-t17",
          "dataset_depth": 12
        }
        """
}
