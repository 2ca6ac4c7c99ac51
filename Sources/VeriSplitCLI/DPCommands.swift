import ArgumentParser
import DP
import Foundation

/// `verisplit dp ...`: differential privacy tools.
struct DPCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dp",
        abstract: "Differential privacy: accountants (RDP, PLD) and noise calibration.",
        subcommands: [Account.self])
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
        var q: String?

        @Option(parsing: .unconditional, help: "Noise multiplier > 0 (noise std / clipping norm).")
        var sigma: String?

        @Option(
            parsing: .unconditional,
            help: "Target epsilon > 0; solves for sigma instead of --sigma.")
        var epsilon: String?

        @Option(parsing: .unconditional, help: "Number of steps >= 1.")
        var steps: String?

        @Option(parsing: .unconditional, help: "Delta in (0, 1).")
        var delta: String?

        @Option(help: "Accountant: rdp or pld.")
        var accountant: String = "rdp"

        @Flag(help: "Print one JSON object.")
        var json = false

        func run() async throws {
            do {
                try execute()
            } catch {
                fail(error.description)
            }
        }

        private func fail(_ message: String) -> Never {
            FileHandle.standardError.write(Data(("error: " + message + "\n").utf8))
            Foundation.exit(2)
        }

        private func number(_ text: String?, _ name: String) -> Double {
            guard let text else { fail("missing --\(name)") }
            guard let value = Double(text) else {
                fail("invalid \(name) = \(text): not a number")
            }
            return value
        }

        private func execute() throws(DPError) {
            guard let kind = AccountantKind(rawValue: accountant.lowercased()) else {
                fail("invalid accountant = \(accountant): must be rdp or pld")
            }
            let q = number(q, "q")
            let delta = number(delta, "delta")
            guard let stepsText = steps else { fail("missing --steps") }
            guard let steps = Int(stepsText) else {
                fail("invalid steps = \(stepsText): not an integer")
            }
            switch (sigma, epsilon) {
            case (.some, .some):
                fail("invalid sigma/epsilon: give either --sigma or --epsilon, not both")
            case (.none, .none):
                fail("missing --sigma (to get epsilon) or --epsilon (to solve for sigma)")
            case (.some(let sigmaText), .none):
                let sigma = number(sigmaText, "sigma")
                let mechanism = try PoissonSampledGaussian(
                    samplingRate: q, noiseMultiplier: sigma, steps: steps)
                let result = try kind.accountant.guarantee(for: mechanism, delta: delta)
                report(
                    kind: kind, q: q, steps: steps, delta: delta, sigma: sigma,
                    epsilon: result.epsilon, order: result.order, target: nil)
            case (.none, .some(let epsilonText)):
                let target = number(epsilonText, "epsilon")
                let solution = try SigmaCalibration.noiseMultiplier(
                    targetEpsilon: target, delta: delta, samplingRate: q, steps: steps,
                    accountant: kind.accountant,
                    relativeTolerance: kind == .rdp ? 1e-6 : 1e-4)
                report(
                    kind: kind, q: q, steps: steps, delta: delta, sigma: solution.sigma,
                    epsilon: solution.epsilon, order: solution.order, target: target)
            }
        }

        private func report(
            kind: AccountantKind, q: Double, steps: Int, delta: Double, sigma: Double,
            epsilon: Double, order: Double?, target: Double?
        ) {
            if json {
                var fields: [(String, String)] = [
                    ("accountant", "\"\(kind.rawValue)\""), ("q", jsonNumber(q)),
                    ("sigma", jsonNumber(sigma)), ("steps", String(steps)),
                    ("delta", jsonNumber(delta)), ("epsilon", jsonNumber(epsilon)),
                ]
                if let order { fields.append(("order", jsonNumber(order))) }
                if let target { fields.append(("target_epsilon", jsonNumber(target))) }
                print("{" + fields.map { "\"\($0.0)\": \($0.1)" }.joined(separator: ", ") + "}")
                return
            }
            let name = kind.rawValue.uppercased()
            if let target {
                print(
                    "sigma = \(sigma)  (\(name): epsilon = \(epsilon) <= target \(target) "
                        + "at delta = \(delta), q = \(q), steps = \(steps))")
            } else {
                let orderText = order.map { ", order \($0)" } ?? ""
                print(
                    "epsilon = \(epsilon)  (\(name)\(orderText); delta = \(delta), "
                        + "q = \(q), sigma = \(sigma), steps = \(steps))")
            }
        }

        private func jsonNumber(_ value: Double) -> String {
            value.isFinite ? "\(value)" : "null"
        }
    }
}
