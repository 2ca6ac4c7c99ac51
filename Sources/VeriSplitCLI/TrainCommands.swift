import ArgumentParser
import Foundation
import NeuralNet

/// Options shared by `train` and `eval` for choosing data.
struct DataOptions: ParsableArguments {
    @Option(
        help:
            "Data: 'bundled' (4000/1000-image Fashion-MNIST subset shipped with the package), 'system' (full Fashion-MNIST from the Debian package dataset-fashion-mnist), 'auto' (system if installed, else bundled), or a directory of MNIST-style IDX files (gzipped or plain)."
    )
    var data: String = "bundled"
}

/// `verisplit train`: centralized training, the baseline the privacy tools start from.
struct Train: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a model from a spec on Fashion-MNIST (or other IDX data) and save safetensors.",
        discussion: """
            Prints a progress bar with loss and accuracy per epoch on a terminal, and a JSON summary at \
            the end. Inputs are scaled to [0, 1] and standardized with the training set's mean and \
            standard deviation, which are stored in the model file's metadata so `eval` reuses them.
            """)

    @Option(help: "Model spec JSON file, or a bundled spec name (\(ModelSpec.bundledNames.joined(separator: ", "))).")
    var model: String = "mlp-784-128-10"
    @OptionGroup var dataOptions: DataOptions
    @Option(help: "Number of epochs.") var epochs: Int = 5
    @Option(help: "Mini-batch size.") var batchSize: Int = 64
    @Option(help: "Optimizer: adam or sgd.") var optimizer = TrainingRecipe.OptimizerChoice.adam
    @Option(help: "Learning rate (default 0.001 for adam, 0.05 for sgd).") var lr: Float?
    @Option(help: "SGD momentum.") var momentum: Float = 0.9
    @Option(help: "Seed for initialization and shuffling.") var seed: UInt64 = 1
    @Option(help: "Where to write the trained weights (safetensors).") var out: String?

    func validate() throws {
        guard epochs > 0 else { throw ValidationError("--epochs must be positive") }
        guard batchSize > 0 else { throw ValidationError("--batch-size must be positive") }
    }

    func run() async throws {
        var recipe = TrainingRecipe()
        (recipe.model, recipe.data, recipe.epochs, recipe.batchSize) = (
            model, DataSource(argument: dataOptions.data), epochs, batchSize
        )
        (recipe.optimizer, recipe.learningRate, recipe.momentum) = (optimizer, lr, momentum)
        (recipe.seed, recipe.out) = (seed, out)
        let progress = TrainingProgressLine(epochs: epochs)
        print(jsonLine(try recipe.run(progress: progress.report)))
    }
}

/// `verisplit eval`: accuracy and loss of saved weights on the test split.
struct Eval: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Evaluate saved weights on the test split; prints one JSON object.")

    @Option(help: "Model spec JSON file, or a bundled spec name.") var model: String = "mlp-784-128-10"
    @Option(help: "Weights (safetensors) written by `verisplit train`.") var weights: String
    @OptionGroup var dataOptions: DataOptions

    func run() async throws {
        let result = try ModelEvaluation.run(
            model: model, weights: weights, data: DataSource(argument: dataOptions.data))
        if isatty(STDOUT_FILENO) == 1 { print(result.text) }
        print(jsonLine(result))
    }
}
