import Foundation
import Report
import SplitLearning

/// `index.html`, `summary.json` and the terminal summary of a demo run.
enum Overview {
    static func f(_ v: Double, _ digits: Int) -> String { formatDecimal(v, digits: digits) }
    static func percent(_ v: Double?) -> String { v.map { f($0 * 100, 1) + " %" } ?? "-" }

    static func html(_ s: DemoSummary) -> String {
        let sp = s.split, v = sp.verified
        let embedded = EmbeddedSpec.spec
        let proofs = v.client.proofs + v.server.proofs
        let verifications = v.client.verifications + v.server.verifications
        let verifySeconds = v.client.verifySeconds + v.server.verifySeconds
        let training: [(String, String)] = [
            (
                "spec",
                "\(EmbeddedSpec.name) (\(sp.spec)): \(embedded.map(EmbeddedSpec.architecture) ?? "the embedded spec does not load")"
            ),
            (
                "constraints (client forward / server step / client update)",
                ["client", "server", "client-update"].map { sp.constraints[$0].map { "\($0)" } ?? "-" }.joined(
                    separator: " / ")
            ),
            ("Groth16 key setup (development, single party)", f(sp.keySetupSeconds, 1) + " s"),
            ("verified steps (\(embedded?.batch ?? 0) samples each)", "\(v.stepsCompleted)"),
            ("test accuracy (fixed point, 1000 test images)", percent(v.testAccuracy)),
            ("test accuracy at initialization", percent(sp.accuracyAtInitialization)),
            ("wall time per verified step", f(sp.secondsPerVerifiedStep, 2) + " s"),
            (
                "proving, client / server",
                f(v.client.provingSeconds, 1) + " s / " + f(v.server.provingSeconds, 1) + " s (\(proofs) proofs)"
            ),
            (
                "verification",
                f(verifySeconds * 1000, 1) + " ms for \(verifications) proofs ("
                    + f(verifySeconds * 1000 / Double(max(verifications, 1)), 2) + " ms each)"
            ),
            (
                "bytes per step (both directions)",
                f(Double(v.client.bytesSent + v.server.bytesSent) / Double(max(v.stepsCompleted, 1)), 0)
            ),
            ("transcript head", v.transcriptHead?.hex ?? "none"),
            (
                "plain mode, same \(sp.plainSameSteps.stepsCompleted) steps",
                percent(sp.plainSameSteps.testAccuracy)
                    + (sp.plainSameSteps.testAccuracy == v.testAccuracy
                        ? " (identical: proofs do not change the arithmetic)" : " (DIFFERS from the verified session)")
            ),
            (
                "plain mode, \(sp.plainLong.stepsCompleted) steps",
                percent(sp.plainLong.testAccuracy) + " in "
                    + f(sp.plainLong.client.wallSeconds, 2) + " s ("
                    + f(sp.plainLong.client.wallSeconds * 1000 / Double(max(sp.plainLong.stepsCompleted, 1)), 2)
                    + " ms/step)"
            ),
        ]
        let adversaryRows = sp.malicious.map { r in
            [
                r.adversary.rawValue, r.mode.rawValue, r.rejected ? "yes" : "no", r.rejectedBy?.rawValue ?? "-",
                "\(r.stepsCompleted)",
                r.reason
                    ?? (r.rejected
                        ? "" : "accepted: the ledger's commitments cannot tell a wrong gradient from a right one"),
            ]
        }
        let a = s.attack
        let p = s.privacy
        let auditRows = p.models.map { m in
            [
                m.name, m.claimedEpsilon.map { f($0, 2) } ?? "none", m.claimStatus ?? "-",
                percent(m.testAccuracy), f(m.auc, 3), f(m.tprAtLowFPR, 4), f(m.epsilonLowerBound, 2),
                f(m.epsilonCeiling, 2),
                f(m.epsilonLowerBoundPosthoc, 2),
            ]
        }
        let report = HTMLReport(
            title: "VeriSplit demo",
            subtitle:
                "\(s.quick ? "quick" : "full") run, \(f(s.seconds, 1)) s, seed \(s.seed); bundled Fashion-MNIST subset (4000 train / 1000 test), no network",
            sections: [
                HTMLSection(
                    heading: "1. Verified split training",
                    blocks: [
                        .paragraph(
                            "A client (images, the conv layer) and a server (the dense head) train over TCP on loopback. Every activation message carries a Groth16 proof of the client's committed forward pass; every gradient a proof of the server's step (forward, loss, backward, SGD between committed weights); every client update a proof too. Each side verifies before it uses anything. The server runs as its own process (`verisplit split server`) unless the demo was started with --in-process."
                        ),
                        .keyValues(training),
                        .links([("session report (JSON)", "split-training.json")]),
                    ]),
                HTMLSection(
                    heading: "2. A dishonest server, one step",
                    blocks: [
                        .paragraph(
                            "Each row is a fresh session whose server cheats at one step: fsha trains on another label (feature-space hijacking), replay re-sends the previous step's proof, scale-gradient tampers with the gradient, wrong-session proves for another session. The verified client rejects the step before its weights change. The last row plays the first adversary against the ledger baseline (hash-chained commitments, no proofs)."
                        ),
                        .table(
                            header: ["adversary", "mode", "rejected", "by", "steps kept", "reason"], rows: adversaryRows
                        ),
                        .links([("sessions (JSON)", "split-malicious.json")]),
                    ]),
                HTMLSection(
                    heading: "3. QBI on the cut layer, without and with AGGP",
                    blocks: [
                        .paragraph(
                            "A malicious server makes its first layer a QBI layer (N = \(a.neurons) neurons, victim batch B = \(a.batch)) on the \(a.dimension)-wide cut and inverts that layer's gradient. The client half is the conv layer trained above, and the targets are exactly the activations it sends (fixed point, dequantized). In vanilla split learning the server sees these activations anyway; the point is that the server layer's gradient, and so its committed update, carries every isolated sample's activations in the clear, to anyone who sees two consecutive weights. AGGP (threshold T = \(a.aggpThreshold), on the server's first dense layer as in the paper) prunes that gradient before the update. The server knows the activations' statistics from earlier steps and folds the standardization QBI assumes into its layer: \(a.standardization) (one mean and deviation per conv channel, the paper's normalization)."
                        ),
                        .table(
                            header: ["defense", "exact recall (mean over \(a.seeds) seeds)", "per seed"],
                            rows: [
                                [
                                    "none", f(a.meanRecallNone, 3),
                                    a.recallNone.map { f($0, 2) }.joined(separator: ", "),
                                ],
                                [
                                    "AGGP (T = \(a.aggpThreshold), first dense layer)", f(a.meanRecallAGGP, 3),
                                    a.recallAGGP.map { f($0, 2) }.joined(separator: ", "),
                                ],
                            ]),
                        .keyValues([
                            ("recall in theory, R(N, B)", f(a.recallTheory, 3)),
                            ("samples isolated by a neuron (undefended potential)", f(a.structuralRecall, 3)),
                        ]),
                        .paragraph(
                            "Grids of the first seed: each victim's activations (the conv channels stacked vertically) on the left, the server's best reconstruction on the right (black: none)."
                        ),
                        .images([(a.gridNone, "no defense"), (a.gridAGGP, "AGGP")]),
                    ]),
                HTMLSection(
                    heading: "4. DP-Weights and DP-SGD at epsilon \(Demo.number(p.epsilon)), audited",
                    blocks: [
                        .paragraph(
                            "The bundled CNN \(p.model) (two Conv2d with ReLU and pooling, then Dense; pixels standardized with the members' statistics) is trained on \(p.membersPerSide) members three ways: plain (reference), plain then DP-Weights noise, and DP-SGD (Poisson sampling, RDP accountant; batch sampling and noise seeded so the demo is reproducible, hence the claim \"seeded\": the accountant's bound is for the algorithm run with secret randomness, not a release). A \(p.attack) membership attack\(p.shadowModels > 0 ? " with \(p.shadowModels) reference models" : "") then tells members from \(p.membersPerSide) non-members. The verified session above sees too few samples to audit, so these models are trained with the audit's own recipes."
                        ),
                        .table(
                            header: [
                                "model", "claimed epsilon", "claim", "test accuracy", "AUC", "TPR at 0.1 % FPR",
                                "epsilon lower bound (held-out threshold)", "ceiling", "post-hoc bound (optimistic)",
                            ], rows: auditRows),
                        .note(
                            "Claims: proven (an accountant's bound, every random choice secret), seeded (the algorithm's bound, but this run's sampling and noise came from a seed: an experiment, not a release), heuristic (DP-Weights, a published heuristic, not a proof: its epsilon is a claim the audit can contradict, never confirm). The epsilon lower bound takes its threshold from a held-out half of the scores and bounds on the other half (Clopper-Pearson, 95 %); the post-hoc figure picks the best threshold on the same scores and is optimistic. A lower bound below the claim does not prove the claim; the ceiling is the largest bound the evaluation half could show."
                        ),
                        .links(p.models.map { ("audit report: \($0.name)", $0.report) }),
                    ]),
                HTMLSection(
                    heading: "5. Files and timing",
                    blocks: [
                        .links(s.files.filter { $0 != "index.html" }.map { ($0, $0) }),
                        .table(
                            header: ["stage", "seconds"],
                            rows: s.stageSeconds.map { [$0.0, f($0.1, 1)] } + [["total", f(s.seconds, 1)]]),
                        .preformatted(
                            "swift run -c release verisplit demo\(s.quick ? " --quick" : "") --seed \(s.seed) --out \(s.output.path)"
                        ),
                    ]),
            ])
        return report.render()
    }

    static func report(_ r: LocalRunReport) -> JSONValue {
        .object([
            JSONMember("mode", .string(r.mode.rawValue)), JSONMember("adversary", .string(r.adversary.rawValue)),
            JSONMember("steps_completed", .int(Int(r.stepsCompleted))), JSONMember("rejected", .bool(r.rejected)),
            JSONMember("rejected_by", r.rejectedBy.map { JSONValue.string($0.rawValue) } ?? .null),
            JSONMember("reason", r.reason.map(JSONValue.string) ?? .null),
            JSONMember("test_accuracy", .number(r.testAccuracy)),
            JSONMember("client_proving_s", .number(r.client.provingSeconds)),
            JSONMember("server_proving_s", .number(r.server.provingSeconds)),
            JSONMember("verify_s", .number(r.client.verifySeconds + r.server.verifySeconds)),
            JSONMember("verifications", .int(r.client.verifications + r.server.verifications)),
            JSONMember("wall_s", .number(r.client.wallSeconds)),
            JSONMember("bytes", .int(r.client.bytesSent + r.server.bytesSent)),
        ])
    }

    static func json(_ s: DemoSummary) -> JSONValue {
        let sp = s.split, a = s.attack, p = s.privacy
        return .object([
            JSONMember("mode", .string(s.quick ? "quick" : "full")),
            JSONMember("output", .string(s.output.path)),
            JSONMember("index", .string(s.output.appendingPathComponent("index.html").path)),
            JSONMember("seconds", .number(s.seconds)),
            JSONMember("seed", .int(Int(truncatingIfNeeded: s.seed))),
            JSONMember(
                "split",
                .object([
                    JSONMember("spec", .string(sp.spec)),
                    JSONMember(
                        "constraints",
                        .object(sp.constraints.sorted { $0.key < $1.key }.map { JSONMember($0.key, .int($0.value)) })),
                    JSONMember("key_setup_s", .number(sp.keySetupSeconds)),
                    JSONMember("seconds_per_verified_step", .number(sp.secondsPerVerifiedStep)),
                    JSONMember("accuracy_at_initialization", .number(sp.accuracyAtInitialization)),
                    JSONMember("verified", report(sp.verified)),
                    JSONMember("plain_same_steps", report(sp.plainSameSteps)),
                    JSONMember("plain_long", report(sp.plainLong)),
                    JSONMember("malicious", .array(sp.malicious.map(report))),
                    JSONMember("all_verified_attacks_rejected", .bool(sp.allVerifiedAttacksRejected)),
                ])),
            JSONMember(
                "qbi",
                .object([
                    JSONMember("neurons", .int(a.neurons)), JSONMember("batch", .int(a.batch)),
                    JSONMember("seeds", .int(a.seeds)),
                    JSONMember("dimension", .int(a.dimension)),
                    JSONMember("recall_none", .number(a.meanRecallNone)),
                    JSONMember("recall_aggp", .number(a.meanRecallAGGP)),
                    JSONMember("recall_none_per_seed", .numbers(a.recallNone)),
                    JSONMember("recall_aggp_per_seed", .numbers(a.recallAGGP)),
                    JSONMember("recall_theory", .number(a.recallTheory)),
                    JSONMember("recall_structural", .number(a.structuralRecall)),
                    JSONMember("standardization", .string(a.standardization)),
                    JSONMember("aggp_threshold", .int(a.aggpThreshold)),
                    JSONMember("aggp_layers", .string(a.aggpLayers)),
                    JSONMember("grid_none", .string(a.gridNone)), JSONMember("grid_aggp", .string(a.gridAGGP)),
                ])),
            JSONMember(
                "audit",
                .object([
                    JSONMember("model", .string(p.model)), JSONMember("attack", .string(p.attack)),
                    JSONMember("members_per_side", .int(p.membersPerSide)),
                    JSONMember("shadow_models", .int(p.shadowModels)),
                    JSONMember("epsilon", .number(p.epsilon)),
                    JSONMember(
                        "models",
                        .array(
                            p.models.map { m in
                                .object([
                                    JSONMember("name", .string(m.name)),
                                    JSONMember("claimed_epsilon", .number(m.claimedEpsilon)),
                                    JSONMember("claimed_delta", .number(m.claimedDelta)),
                                    JSONMember("proven", m.proven.map(JSONValue.bool) ?? .null),
                                    JSONMember("claim_status", m.claimStatus.map(JSONValue.string) ?? .null),
                                    JSONMember("test_accuracy", .number(m.testAccuracy)),
                                    JSONMember("auc", .number(m.auc)),
                                    JSONMember("tpr_at_0.1%_fpr", .number(m.tprAtLowFPR)),
                                    JSONMember("epsilon_lower_bound", .number(m.epsilonLowerBound)),
                                    JSONMember("threshold_selection", .string("held-out")),
                                    JSONMember("epsilon_ceiling", .number(m.epsilonCeiling)),
                                    JSONMember("epsilon_lb_posthoc", .number(m.epsilonLowerBoundPosthoc)),
                                    JSONMember("report", .string(m.report)),
                                    JSONMember("seconds", .number(m.seconds)),
                                ])
                            })),
                ])),
            JSONMember("stage_seconds", .object(s.stageSeconds.map { JSONMember($0.0, .number($0.1)) })),
            JSONMember("files", .array(s.files.map(JSONValue.string))),
        ])
    }
}

extension DemoSummary {
    /// The terminal summary: key numbers and where the folder is.
    public func text() -> String {
        let f = Overview.f, percent = Overview.percent
        let v = split.verified
        var lines = [
            "VeriSplit demo (\(quick ? "quick" : "full")), \(f(seconds, 1)) s",
            "1. verified split training, \(v.stepsCompleted) steps over loopback: test accuracy \(percent(v.testAccuracy))"
                + " (plain mode, \(split.plainLong.stepsCompleted) steps: \(percent(split.plainLong.testAccuracy)));"
                + " \(f(split.secondsPerVerifiedStep, 2)) s/step, proving \(f(v.client.provingSeconds + v.server.provingSeconds, 1)) s,"
                + " verifying \(f((v.client.verifySeconds + v.server.verifySeconds) * 1000, 1)) ms for \(v.client.verifications + v.server.verifications) proofs",
            "2. dishonest server steps:",
        ]
        for r in split.malicious {
            lines.append(
                "   \(r.adversary.rawValue) vs \(r.mode.rawValue): "
                    + (r.rejected
                        ? "REJECTED by the \(r.rejectedBy?.rawValue ?? "honest side"): \(r.reason ?? "")" : "accepted"))
        }
        lines.append(
            "3. QBI (N = \(attack.neurons), B = \(attack.batch), \(attack.standardization) standardization) on the cut layer: exact recall \(f(attack.meanRecallNone, 3)) without AGGP, \(f(attack.meanRecallAGGP, 3)) with AGGP (T = \(attack.aggpThreshold), first dense layer)"
        )
        lines.append("4. \(privacy.attack) membership audit, epsilon \(Demo.number(privacy.epsilon)):")
        for m in privacy.models {
            let claim = m.claimedEpsilon.map { ", claim epsilon \(f($0, 2)) (\(m.claimStatus ?? "-"))" } ?? ""
            lines.append(
                "   \(m.name)\(claim): accuracy \(percent(m.testAccuracy)), AUC \(f(m.auc, 3)), TPR@0.1%FPR \(f(m.tprAtLowFPR, 4)), epsilon lower bound \(f(m.epsilonLowerBound, 2)) (held-out threshold)"
            )
        }
        lines.append("5. wrote \(output.appendingPathComponent("index.html").path) (\(files.count) files)")
        return lines.joined(separator: "\n")
    }

    /// `summary.json`'s content.
    public func json() -> String { Overview.json(self).serialized() }
}
