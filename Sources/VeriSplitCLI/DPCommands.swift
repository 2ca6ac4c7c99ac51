import ArgumentParser
import DP
import Foundation
import NeuralNet

/// `verisplit dp ...`: differential privacy tools.
struct DPCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dp",
        abstract:
            "Differential privacy: accountants (RDP, PLD), DP-SGD training, weight noising.",
        subcommands: [Account.self, Train.self, Noise.self, TrainLogReg.self])
}

extension DPCommand {
    /// `verisplit dp account`: epsilon of Poisson-subsampled Gaussian DP-SGD, or the noise
    /// multiplier that meets a target epsilon. Bad parameters exit with status 2 and one line
    /// naming the parameter, so scripts can rely on the status.
    struct Account: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Epsilon of DP-SGD (Poisson-sampled Gaussian), or sigma for a target epsilon.",
            discussion: """
                Give --sigma to get epsilon, or --epsilon to solve for sigma. Numbers follow \
                Google's dp_accounting (RDP orders 1.1..10.9 step 0.1 and 12..63; PLD grid 1e-4).
                """)

        @Option(
            name: .customLong("q"), parsing: .unconditional,
            help: "Sampling rate in (0, 1] (batch size / dataset size).")
        var q: Double?

        @Option(parsing: .unconditional, help: "Noise multiplier > 0 (noise std / clipping norm).")
        var sigma: Double?

        @Option(
            parsing: .unconditional,
            help: "Target epsilon > 0; solves for sigma instead of --sigma.")
        var epsilon: Double?

        @Option(parsing: .unconditional, help: "Number of steps >= 1.")
        var steps: Int?

        @Option(parsing: .unconditional, help: "Delta in (0, 1).")
        var delta: Double?

        @Option(help: "Accountant: rdp or pld.")
        var accountant = AccountantKind.rdp

        @Flag(help: "Print one JSON object.")
        var json = false

        func run() async throws {
            let answer = try PrivacyAccountingAnswer.compute(
                q: try OptionCheck.required(q, "q"), sigma: sigma, targetEpsilon: epsilon,
                steps: try OptionCheck.required(steps, "steps"), delta: try OptionCheck.required(delta, "delta"),
                accountant: accountant)
            print(json ? jsonLine(answer) : answer.text)
        }
    }
}

// MARK: - Shared helpers of the dp subcommands

/// The privacy target the dp training and noising commands share, checked up front: epsilon
/// required, finite and > 0; delta in (0, 1).
struct PrivacyTargetOptions: ParsableArguments {
    @Option(parsing: .unconditional, help: "Target epsilon > 0.") var epsilon: Double?
    @Option(parsing: .unconditional, help: "Delta in (0, 1).") var delta: Double = 1e-5

    func validate() throws { _ = try target() }

    func target() throws(ValidationError) -> (epsilon: Double, delta: Double) {
        let eps = try OptionCheck.required(epsilon, "epsilon")
        guard eps > 0, eps.isFinite else {
            throw ValidationError("invalid epsilon = \(eps): must be > 0. Pass a privacy budget such as 1 or 8.")
        }
        guard delta > 0, delta < 1 else {
            throw ValidationError("invalid delta = \(delta): must lie in the open interval (0, 1). Use e.g. 1e-5.")
        }
        return (eps, delta)
    }
}

// MARK: - dp train

extension DPCommand {
    /// `verisplit dp train`: DP-SGD (Abadi et al. 2016) with sigma calibrated to a target
    /// (epsilon, delta) before training, epsilon spent printed per epoch, and the model written
    /// with its privacy record in the safetensors metadata.
    struct Train: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Train with DP-SGD to a target (epsilon, delta); write safetensors.",
            discussion: """
                Per-sample gradients are clipped to --clip, Gaussian noise sigma * clip is added to \
                their sum, which is divided by the expected batch size. sigma is calibrated with the \
                accountant (RDP by default) for q = batch / n and epochs * round(n / batch) steps. \
                Poisson sampling (default) matches the accountant; --sampling shuffled uses fixed \
                shuffled batches, which does NOT match it: the printed epsilon is then for \
                comparison only and the model is recorded as proven=false. Batch sampling and noise \
                come from the system CSPRNG; --sampling-seed and --noise-seed make them \
                reproducible, and either one records the model as proven=false (anyone who knows \
                the seed can replay that randomness). --seed seeds the initialization only. The \
                guarantee is for one example, add-remove neighbours, with n and q public. Train \
                loss, train accuracy and the clipped fraction are NOT private and are never stored \
                in the model. A NaN or infinite loss, gradient or weight stops training with exit \
                status 1 and no model written. Inputs are mapped to (x - 0.5) / 0.5 with fixed \
                constants (no privacy cost).
                """)

        @Option(help: "Model spec JSON file or bundled name (\(ModelSpec.bundledNames.joined(separator: ", "))).")
        var model: String = "mlp-784-128-10"
        @OptionGroup var target: PrivacyTargetOptions
        @Option(help: "Epochs (each round(n / batch) noisy steps).") var epochs: Int = 5
        @Option(help: "Expected batch size B (q = B / n).") var batch: Int = 64
        @Option(parsing: .unconditional, help: "Per-sample clipping norm C > 0.") var clip: Double = 1.0
        @OptionGroup var dataOptions: DataOptions
        @Option(help: "Where to write the model (safetensors).") var out: String?
        @Option(help: "Optimizer: sgd or adam.") var optimizer = TrainingRecipe.OptimizerChoice.sgd
        @Option(parsing: .unconditional, help: "Learning rate (default 0.05 for sgd, 0.002 for adam).")
        var lr: Double?
        @Option(parsing: .unconditional, help: "SGD momentum.") var momentum: Double = 0.9
        @Option(help: "Sampling: poisson (matches the accountant) or shuffled (does not).")
        var sampling = BatchSampling.poisson
        @Option(help: "Accountant for calibration and the per-epoch readout: rdp or pld.")
        var accountant = AccountantKind.rdp
        @Option(help: "Seed of the weight initialization only.") var seed: UInt64 = 1
        @Option(
            help: "Seed the batch sampling (reproducible experiments only: the model is then recorded proven=false).")
        var samplingSeed: UInt64?
        @Option(
            help: "Seed the Gaussian noise (reproducible experiments only: the model is then recorded proven=false).")
        var noiseSeed: UInt64?
        @Flag(help: "Print one JSON object.") var json = false

        func validate() throws {
            try OptionCheck.atLeast(1, epochs, "epochs")
            try OptionCheck.atLeast(1, batch, "batch")
            try OptionCheck.finite(clip, "clip")
            guard clip > 0 else { throw ValidationError("invalid clip = \(clip): must be > 0, e.g. 1.0") }
            try OptionCheck.finite(lr, "lr")
            if let lr, lr <= 0 { throw ValidationError("invalid lr = \(lr): must be > 0") }
            try OptionCheck.finite(momentum, "momentum")
            guard (0..<1).contains(momentum) else {
                throw ValidationError("invalid momentum = \(momentum): must lie in [0, 1)")
            }
        }

        func run() async throws {
            let (eps, delta) = try target.target()
            let out = try OptionCheck.required(out, "out", "where to write the trained model")
            let recipe = DPTrainingRecipe(
                model: model, data: dataOptions.data, out: out, epsilon: eps, delta: delta, epochs: epochs,
                batchSize: batch, clip: clip, sampling: sampling, accountant: accountant, optimizer: optimizer,
                learningRate: lr, momentum: momentum, seed: seed, samplingSeed: samplingSeed, noiseSeed: noiseSeed)
            do {
                let summary = try recipe.run(
                    plan: { if !json { print(DPTrainingRecipe.planText($0, settings: recipe.settings)) } },
                    epoch: { [json, epochs] in if !json { print(DPTrainingRecipe.epochText($0, of: epochs)) } })
                print(json ? jsonLine(summary) : summary.text)
            } catch {
                // A diverged run is a refused result (exit 1), not bad input.
                guard case .nonFinite = error else { throw error }
                throw Refusal(error.description)
            }
        }
    }
}

// MARK: - dp noise

extension DPCommand {
    /// `verisplit dp noise`: Gaussian noise on a saved model's weights, with the claim recorded in
    /// the output's metadata. The input file is only read.
    struct Noise: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add Gaussian noise to saved weights (DP-Weights, output perturbation, post-DP-SGD).",
            discussion: """
                --method dpweights (default): the DP-Weights calibration as released by its author, \
                sigma = sqrt(2 ln(1.25/delta)) (E lr C) / (epsilon n B) + 0.009760 / epsilon^0.078008 \
                with delta forced to 1/n^2. HEURISTIC: not a proven DP guarantee. E, lr, C, n, B come \
                from the options or the model's metadata. \
                --method output-perturbation: for a model from `verisplit dp train-logreg`; noise \
                calibrated to the proven sensitivity 2L/(gamma n) (analytic Gaussian mechanism). \
                --method post-dpsgd: extra noise on a `verisplit dp train` model (--sigma, or the \
                DP-Weights sigma at --epsilon); post-processing, so the recorded epsilon stays the \
                DP-SGD one. Noise comes from the system CSPRNG unless --noise-seed is given.
                """)

        @Option(help: "Input model (safetensors); never modified.") var model: String?
        @OptionGroup var target: PrivacyTargetOptions
        @Option(help: "Output model (safetensors), must differ from --model.") var out: String?
        @Option(help: "dpweights, output-perturbation or post-dpsgd.") var method = PrivacyRecord.Method.dpWeights
        @Option(help: "DP-Weights: training epochs E (default: metadata trained_epochs).")
        var trainEpochs: Int?
        @Option(parsing: .unconditional, help: "DP-Weights: learning rate (default: metadata).")
        var lr: Double?
        @Option(parsing: .unconditional, help: "DP-Weights: clipping norm C (default: metadata).")
        var clip: Double?
        @Option(help: "DP-Weights: dataset size n (default: metadata).") var datasetSize: Int?
        @Option(help: "DP-Weights: batch size B (default: metadata).") var batchSize: Int?
        @Option(parsing: .unconditional, help: "post-dpsgd: extra noise std (default: DP-Weights sigma at --epsilon).")
        var sigma: Double?
        @Option(help: "Seed the noise (reproducible experiments only; default: system CSPRNG).")
        var noiseSeed: UInt64?
        @Flag(help: "Print one JSON object.") var json = false

        func validate() throws {
            try OptionCheck.atLeast(1, trainEpochs, "train-epochs")
            try OptionCheck.atLeast(1, batchSize, "batch-size")
            try OptionCheck.atLeast(2, datasetSize, "dataset-size")
            try OptionCheck.finite(lr, "lr")
            try OptionCheck.finite(clip, "clip")
            try OptionCheck.finite(sigma, "sigma")
        }

        func run() async throws {
            let (eps, delta) = try target.target()
            let model = try OptionCheck.required(model, "model", "the safetensors file to noise")
            let out = try OptionCheck.required(out, "out", "where to write the noised model")
            let overrides = TrainingHyperparameters(
                epochs: trainEpochs, learningRate: lr, batchSize: batchSize, datasetSize: datasetSize,
                clippingNorm: clip)
            let report = try WeightNoisingRequest(
                model: model, out: out, method: method, epsilon: eps, delta: delta,
                hyperparameters: overrides, sigma: sigma, noiseSeed: noiseSeed
            ).run()
            print(json ? jsonLine(report) : report.text)
        }
    }
}

// MARK: - dp train-logreg

extension DPCommand {
    /// `verisplit dp train-logreg`: the L2-regularized logistic regression whose output
    /// perturbation `dp noise --method output-perturbation` can prove.
    struct TrainLogReg: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "train-logreg",
            abstract: "Train L2-regularized multinomial logistic regression for proven output perturbation.",
            discussion: """
                Inputs: x - 0.5 clipped to L2 norm 1, plus a bias feature (||x_aug|| <= sqrt 2). \
                Projected SGD, one example per step, eta_t = min(1/beta, 1/(gamma t)), projection \
                radius L0/gamma. The model's metadata records gamma, L, n and the other \
                assumptions; the sensitivity of the released weights is 2L/(gamma n) (Wu et al. 2017). \
                The written model itself is NOT private: noise it with \
                `verisplit dp noise --method output-perturbation`.
                """)

        @OptionGroup var dataOptions: DataOptions
        @Option(parsing: .unconditional, help: "L2 regularization gamma > 0.") var l2: Double = 0.01
        @Option(help: "Passes over the data.") var passes: Int = 10
        @Option(help: "Seed of the permutations.") var seed: UInt64 = 1
        @Option(help: "Where to write the model (safetensors).") var out: String?
        @Flag(help: "Print one JSON object.") var json = false

        func validate() throws {
            try OptionCheck.finite(l2, "l2")
            try OptionCheck.atLeast(1, passes, "passes")
        }

        func run() async throws {
            let out = try OptionCheck.required(out, "out", "where to write the model")
            let report = try LogisticRegressionRecipe(
                data: dataOptions.data, l2: l2, passes: passes, seed: seed, out: out
            ).run()
            print(json ? jsonLine(report) : report.text)
        }
    }
}
