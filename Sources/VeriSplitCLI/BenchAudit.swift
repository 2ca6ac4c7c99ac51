import ArgumentParser
import Audit
import Foundation

/// `verisplit bench audit`: membership attacks against plain, DP-SGD and DP-Weights models on the
/// bundled data. Prints a table, or with `--json` one JSON array of objects with keys `model`,
/// `attack`, `auc`, `tpr_at_fpr`, `epsilon_lower_bound`, `test_accuracy` (and a few more).
struct BenchAudit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract:
            "AUC, TPR at low FPR and empirical epsilon of loss/LiRA/RMIA attacks on plain, DP-SGD and DP-Weights models.",
        discussion: """
            A pool of --pool examples from the training split. The target is trained with the recipe \
            under test on a random half of it (members; the other half are the non-members), and \
            --shadow-models models with the same recipe on balanced random halves (each example in \
            exactly half of them), chosen independently of the target's half; they serve as LiRA \
            shadow and RMIA reference models. Trained models are cached (--cache-dir), so a rerun \
            is fast.
            """)

    @Option(help: "Model spec file or bundled name.") var model: String = "mlp-784-128-10"
    @Option(help: "Data: bundled, system, auto or an IDX directory.") var data: String = "bundled"
    @Option(help: "Pool size (examples from the training split).") var pool: Int = 2000
    @Option(help: "Shadow/reference models per recipe (even).") var shadowModels: Int = 16
    @Option(help: "Epochs for plain and DP-Weights training.") var epochs: Int = 20
    @Option(help: "Epochs for DP-SGD.") var dpEpochs: Int = 10
    @Option(
        help:
            "Recipes, comma-separated (plain, dpsgd-eps1, dpsgd-eps3, dpsgd-eps8, dpweights-eps1, dpweights-eps3, dpweights-eps8)."
    )
    var recipes: String = "plain,dpsgd-eps1,dpsgd-eps3,dpsgd-eps8,dpweights-eps1,dpweights-eps3,dpweights-eps8"
    @Option(help: "Attacks, comma-separated.") var attacks: String = "loss,lira,lira-offline,rmia"
    @Option(help: "Seed.") var seed: UInt64 = 1
    @Option(help: "Model cache directory (default ~/.cache/verisplit/shadow-models).") var cacheDir: String?
    @Flag(help: "Do not use the model cache.") var noCache = false
    @Flag(help: "Print one JSON array.") var json = false

    func run() async throws {
        var b = MembershipBenchmark()
        (b.model, b.data, b.pool, b.shadowModels, b.epochs, b.dpEpochs, b.seed) = (
            model, data, pool, shadowModels, epochs, dpEpochs, seed
        )
        b.recipes = recipes.split(separator: ",").map(String.init)
        b.attacks = attacks.split(separator: ",").map(String.init)
        b.cacheDirectory = ShadowCache.directory(path: cacheDir, disabled: noCache)
        let result = try b.run()
        print(json ? result.json.serialized(indent: nil) : result.text)
    }
}
