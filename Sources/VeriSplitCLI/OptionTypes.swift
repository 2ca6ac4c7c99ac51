import ArgumentParser
import Attacks
import Audit
import DP
import Defenses
import Foundation
import NeuralNet
import ZKML

/// Closed choices as typed options: ArgumentParser refuses any other value (listing the valid
/// ones) before the command runs, which the root maps to exit status 2. Matching ignores case.
public protocol CaseInsensitiveArgument: ExpressibleByArgument, RawRepresentable, CaseIterable
where RawValue == String {}

extension CaseInsensitiveArgument {
    public init?(argument: String) { self.init(rawValue: argument.lowercased()) }
    public static var allValueStrings: [String] { allCases.map(\.rawValue) }
}

extension AccountantKind: CaseInsensitiveArgument {}
extension PrivacyRecord.Method: CaseInsensitiveArgument {}
extension TrainingRecipe.OptimizerChoice: CaseInsensitiveArgument {}
extension PlainTrainer.OptimizerKind: CaseInsensitiveArgument {}
extension Audit.AttackKind: CaseInsensitiveArgument {}
extension DefenseKind: CaseInsensitiveArgument {}
extension Standardization: CaseInsensitiveArgument {}
extension AttackEntryPoint: CaseInsensitiveArgument {}
extension CircuitSpec.Part: CaseInsensitiveArgument {}

/// `poisson`, or `shuffled` (also its full name `shuffled-fixed-batches`).
extension BatchSampling: CaseInsensitiveArgument {
    public init?(argument: String) {
        let a = argument.lowercased()
        self.init(rawValue: a == "shuffled" ? BatchSampling.shuffledFixedBatches.rawValue : a)
    }
}

/// A comma-separated list of positive, finite numbers ("1,3,8"), as one typed option: a value
/// that does not parse is refused by ArgumentParser before the command runs, which the root
/// maps to exit status 2 (bad input).
struct PositiveNumbers: ExpressibleByArgument, Sendable, CustomStringConvertible {
    let values: [Double]

    init(_ values: [Double]) { self.values = values }

    public init?(argument: String) {
        var values: [Double] = []
        for part in argument.split(separator: ",") {
            guard let value = Double(part.trimmingCharacters(in: .whitespaces)), value > 0, value.isFinite else {
                return nil
            }
            values.append(value)
        }
        guard !values.isEmpty else { return nil }
        self.values = values
    }

    var description: String { values.map { String(format: "%g", $0) }.joined(separator: ",") }
}

/// Range checks of typed numeric options, for the commands' `validate()`: a thrown
/// `ValidationError` is a usage error, which the root maps to exit status 2 (bad input) with
/// the message on standard error.
enum OptionCheck {
    /// A number that must be finite when given (nan and inf parse as `Double`).
    static func finite(_ value: Double?, _ name: String) throws(ValidationError) {
        if let value, !value.isFinite { throw ValidationError("invalid --\(name) = \(value): not a finite number") }
    }

    /// An integer that must be at least `minimum` when given.
    static func atLeast(_ minimum: Int, _ value: Int?, _ name: String) throws(ValidationError) {
        if let value, value < minimum {
            throw ValidationError("invalid --\(name) = \(value): must be an integer >= \(minimum)")
        }
    }

    /// An option the command cannot run without.
    static func required<T>(_ value: T?, _ name: String, _ why: String = "") throws(ValidationError) -> T {
        guard let value else { throw ValidationError("missing --\(name)\(why.isEmpty ? "" : " (\(why))")") }
        return value
    }
}
