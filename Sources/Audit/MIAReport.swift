import Foundation
import Report

/// Where a report came from: versions, inputs and the command, recorded verbatim.
public struct ReportContext: Sendable {
    public var versions: [(String, String)]
    public var inputs: [(String, String)]
    public var command: String

    public init(versions: [(String, String)], inputs: [(String, String)], command: String) {
        self.versions = versions
        self.inputs = inputs
        self.command = command
    }

    /// The current time as ISO 8601 UTC.
    static var timestamp: String {
        let f = ISO8601DateFormatter()
        f.timeZone = TimeZone(identifier: "UTC")
        return f.string(from: Date())
    }
}

/// Rendering of a membership-inference audit: report.json, report.html and a terminal table.
public struct MIAReport: Sendable {
    public let result: MIAResult
    public let context: ReportContext

    public init(result: MIAResult, context: ReportContext) {
        self.result = result
        self.context = context
    }

    var evaluation: AttackEvaluation { result.evaluation }

    // MARK: JSON

    /// The report as JSON. The first keys are the headline: `auc`, `tpr_at_fpr` (keyed by the FPR
    /// as a string: "0", "0.001", "0.01", "0.1"), `epsilon_lower_bound` (Clopper-Pearson, 95%,
    /// threshold chosen on held-out scores: `threshold_selection` is "held-out"),
    /// `epsilon_ceiling`, and the optimistic `epsilon_lb_posthoc` (best threshold chosen on the
    /// same scores); then details, parameters, seeds and versions; curves and per-example
    /// scores last. Non-finite numbers are written as null.
    public func json() -> JSONValue {
        let e = evaluation, c = result.configuration
        return .object([
            JSONMember("auc", .number(e.metrics.auc)),
            JSONMember("tpr_at_fpr", tprObject(e.metrics)),
            JSONMember("epsilon_lower_bound", .number(e.epsilon.bound)),
            JSONMember("threshold_selection", .string(EmpiricalEpsilon.thresholdSelection)),
            JSONMember("epsilon_ceiling", .number(e.epsilon.ceiling)),
            JSONMember("epsilon_lb_posthoc", .number(e.epsilon.posthocBound)),
            JSONMember("one_run_epsilon_lower_bound", .number(e.oneRun.best.epsilon)),
            JSONMember("balanced_accuracy", .number(e.metrics.balancedAccuracy)),
            JSONMember("advantage", .number(e.metrics.advantage)),
            JSONMember("attack", .string(c.attack.rawValue)),
            JSONMember("epsilon", epsilonJSON(e.epsilon, members: e.roc.members, nonMembers: e.roc.nonMembers)),
            JSONMember(
                "one_run",
                oneRunJSON(
                    e.oneRun,
                    note:
                        "members and non-members treated as canaries; the theorem assumes each was included by an independent fair coin, which a fixed train/test split only approximates"
                )),
            JSONMember(
                "target",
                .object([
                    JSONMember("member_accuracy", .number(result.targetMemberAccuracy)),
                    JSONMember("non_member_accuracy", .number(result.targetNonMemberAccuracy)),
                ])),
            JSONMember(
                "data",
                .object([
                    JSONMember("members_available", .int(result.membersAvailable)),
                    JSONMember("non_members_available", .int(result.nonMembersAvailable)),
                    JSONMember("members_audited", .int(e.roc.members)),
                    JSONMember("non_members_audited", .int(e.roc.nonMembers)),
                ])),
            JSONMember(
                "shadow_models",
                .object([
                    JSONMember("count", .int(result.shadowCount)),
                    JSONMember("cache_hits", .int(result.shadowCacheHits)),
                    JSONMember("seconds", .number(result.shadowSeconds)),
                    JSONMember("cache_dir", c.cacheDirectory.map { .string($0.path) } ?? .null),
                    JSONMember("training", .object(result.trainerParameters.map { JSONMember($0.0, .string($0.1)) })),
                ])),
            JSONMember(
                "parameters",
                .object([
                    JSONMember("attack", .string(c.attack.rawValue)),
                    JSONMember("examples_per_side", .int(c.examplesPerSide)),
                    JSONMember("delta", .number(c.delta)),
                    JSONMember("confidence", .number(c.confidence)),
                    JSONMember("lira_variance", .string(c.attackParameters.liraVariance.rawValue)),
                    JSONMember("rmia_gamma", .number(c.attackParameters.rmiaGamma)),
                    JSONMember("rmia_offline_a", .number(c.attackParameters.rmiaOfflineA)),
                ])),
            JSONMember("seeds", .object([JSONMember("audit", .string(String(c.seed)))])),
            JSONMember("inputs", .object(context.inputs.map { JSONMember($0.0, .string($0.1)) })),
            JSONMember("versions", .object(context.versions.map { JSONMember($0.0, .string($0.1)) })),
            JSONMember("command", .string(context.command)),
            JSONMember("created_utc", .string(ReportContext.timestamp)),
            JSONMember("seconds", .number(result.seconds)),
            JSONMember("roc", rocJSON(e.roc)),
            JSONMember(
                "scores",
                .object([
                    JSONMember("members", .numbers(e.memberScores)),
                    JSONMember("non_members", .numbers(e.nonMemberScores)),
                ])),
        ])
    }

    // MARK: HTML

    /// The self-contained HTML report (inline CSS and SVG, no network).
    public func html() -> String {
        let e = evaluation, c = result.configuration
        let summary: [(String, String)] =
            [
                ("attack", c.attack.rawValue),
                ("AUC", fmt(e.metrics.auc)),
                ("balanced accuracy", fmt(e.metrics.balancedAccuracy)),
                ("advantage (max TPR - FPR)", fmt(e.metrics.advantage)),
            ] + MembershipMetrics.fprLevels.enumerated().map { ("TPR at \(pct($1)) FPR", fmt(e.metrics.tprAtFPR[$0])) }
            + [
                (
                    "epsilon lower bound (\(pct(c.confidence)), Clopper-Pearson, threshold chosen on held-out scores)",
                    fmt(e.epsilon.bound)
                ),
                (
                    "ceiling for the \(e.epsilon.evaluationMembers) members / \(e.epsilon.evaluationNonMembers) non-members of the evaluation half",
                    fmt(e.epsilon.ceiling)
                ),
                ("OPTIMISTIC post-hoc bound (best threshold chosen on the same scores)", fmt(e.epsilon.posthocBound)),
                ("one-run epsilon lower bound (Steinke et al. 2023)", fmt(e.oneRun.best.epsilon)),
                ("delta", "\(c.delta)"),
                (
                    "target accuracy on members / non-members",
                    "\(fmt(result.targetMemberAccuracy)) / \(fmt(result.targetNonMemberAccuracy))"
                ),
            ]
        var report = HTMLReport(
            title: "Membership inference audit: \(c.attack.rawValue)",
            subtitle: "VeriSplit privacy audit, \(ReportContext.timestamp)")
        report.sections.append(HTMLSection(heading: "Summary", blocks: [.keyValues(summary), .note(interpretation())]))
        report.sections.append(
            HTMLSection(
                heading: "ROC curve",
                blocks: [
                    .figures(Figures.roc(e.roc, title: c.attack.rawValue)),
                    .paragraph(
                        "A point (FPR, TPR) is the attack's operating point at one score threshold. The log-log plot shows the low-FPR regime, where an attack that confidently identifies even a few members is a real risk (Carlini et al. 2022)."
                    ),
                ]))
        report.sections.append(
            HTMLSection(
                heading: "Attack scores",
                blocks: [
                    .figures([
                        Figures.histogram(
                            members: e.memberScores, nonMembers: e.nonMemberScores, attack: c.attack.rawValue)
                    ])
                ]))
        report.sections.append(
            HTMLSection(
                heading: "Empirical epsilon vs number of guesses",
                blocks: [
                    .figures([Figures.oneRun(e.oneRun)]),
                    .paragraph(Figures.oneRunCaption(e.oneRun)),
                    .note(
                        "Here the audited members and non-members play the role of canaries. The one-run theorem assumes each was included by an independent fair coin flip; a fixed train/test split only approximates that. For a formally valid one-run audit use `verisplit audit canaries`."
                    ),
                ]))
        report.sections.append(
            HTMLSection(
                heading: "Setup",
                blocks: [
                    .keyValues(
                        context.inputs + [
                            ("members audited / available", "\(e.roc.members) / \(result.membersAvailable)"),
                            ("non-members audited / available", "\(e.roc.nonMembers) / \(result.nonMembersAvailable)"),
                            (
                                "shadow/reference models",
                                "\(result.shadowCount) (\(result.shadowCacheHits) from cache, \(fmt(result.shadowSeconds)) s)"
                            ),
                            ("seed", "\(c.seed)"),
                        ] + result.trainerParameters.map { ("shadow training: \($0.0)", $0.1) }),
                    .table(header: ["component", "version"], rows: context.versions.map { [$0.0, $0.1] }),
                    .preformatted(context.command),
                ]))
        return report.render()
    }

    /// One paragraph saying what the numbers mean.
    func interpretation() -> String {
        let e = evaluation
        var s: String
        if e.epsilon.bound <= 0 {
            s =
                "The attack gives no statistically significant evidence of membership leakage at \(pct(e.epsilon.confidence)) confidence (epsilon lower bound 0). That is not a proof of privacy: a stronger attack or more examples may still find leakage."
        } else {
            s =
                "With \(pct(e.epsilon.confidence)) confidence, any (epsilon, \(e.epsilon.delta))-DP guarantee for this training must have epsilon >= \(fmt(e.epsilon.bound)) (Clopper-Pearson bounds on FPR and FNR at a threshold chosen on held-out scores)."
            if e.epsilon.bound >= 0.9 * e.epsilon.ceiling {
                s +=
                    " The bound is near the ceiling \(fmt(e.epsilon.ceiling)) that the \(e.epsilon.evaluationMembers)/\(e.epsilon.evaluationNonMembers) evaluation examples allow: the true leakage may be much larger; audit more examples to resolve it."
            }
        }
        return s
            + " The threshold is chosen on a random half of the members and non-members and the bound computed on the other half, so the confidence level holds. The post-hoc figure (\(fmt(e.epsilon.posthocBound))), the best threshold chosen on the same scores it is evaluated on, is optimistic and shown for comparison only."
    }

    // MARK: Terminal

    /// A short table for the terminal.
    public func table() -> String {
        let e = evaluation
        var t = TextTable(header: ["metric", "value"])
        t.append(["attack", result.configuration.attack.rawValue])
        t.append(["AUC", fmt(e.metrics.auc)])
        t.append(["balanced accuracy", fmt(e.metrics.balancedAccuracy)])
        for (i, f) in MembershipMetrics.fprLevels.enumerated() {
            t.append(["TPR @ \(pct(f)) FPR", fmt(e.metrics.tprAtFPR[i])])
        }
        t.append(["epsilon LB (\(pct(e.epsilon.confidence)), held-out threshold)", fmt(e.epsilon.bound)])
        t.append(["epsilon ceiling (evaluation half)", fmt(e.epsilon.ceiling)])
        t.append(["epsilon LB post-hoc (optimistic)", fmt(e.epsilon.posthocBound)])
        t.append(["one-run epsilon LB", fmt(e.oneRun.best.epsilon)])
        t.append(["members/non-members", "\(e.roc.members)/\(e.roc.nonMembers)"])
        t.append([
            "target acc member/non", "\(fmt(result.targetMemberAccuracy))/\(fmt(result.targetNonMemberAccuracy))",
        ])
        if result.shadowCount > 0 {
            t.append(["shadow models (cached)", "\(result.shadowCount) (\(result.shadowCacheHits))"])
        }
        return t.render()
    }

    /// Writes report.json and report.html into `directory` (created if needed).
    @discardableResult
    public func write(to directory: URL) throws(AuditError) -> (json: URL, html: URL) {
        try writeReportFiles(json: json(), html: html(), directory: directory)
    }
}

/// Writes report.json and report.html into `directory`, creating it.
func writeReportFiles(json: JSONValue, html: String, directory: URL) throws(AuditError) -> (json: URL, html: URL) {
    let jsonURL = directory.appendingPathComponent("report.json")
    let htmlURL = directory.appendingPathComponent("report.html")
    do {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try Data((json.serialized() + "\n").utf8).write(to: jsonURL, options: .atomic)
        try Data(html.utf8).write(to: htmlURL, options: .atomic)
    } catch {
        throw .writeFailed(path: directory.path, reason: error.localizedDescription)
    }
    return (jsonURL, htmlURL)
}

// MARK: - Shared JSON pieces

func tprObject(_ m: MembershipMetrics) -> JSONValue {
    .object(
        MembershipMetrics.fprLevels.enumerated().map { JSONMember(MembershipMetrics.key($1), .number(m.tprAtFPR[$0])) })
}

func epsilonJSON(_ e: EmpiricalEpsilon, members: Int, nonMembers: Int) -> JSONValue {
    .object([
        JSONMember(
            "method",
            .string(
                "Clopper-Pearson two-sided intervals on FPR and FNR; eps = ln((1-delta-FNR_ub)/FPR_ub) or ln((1-delta-FPR_ub)/FNR_ub); threshold and inequality chosen on a random half of members and non-members, bound computed on the other half"
            )),
        JSONMember("threshold_selection", .string(EmpiricalEpsilon.thresholdSelection)),
        JSONMember("bound", .number(e.bound)),
        JSONMember("ceiling", .number(e.ceiling)),
        JSONMember("delta", .number(e.delta)),
        JSONMember("confidence", .number(e.confidence)),
        JSONMember("threshold", .number(e.threshold)),
        JSONMember("inequality", e.inequality.map { .string($0.rawValue) } ?? .null),
        JSONMember("false_positives", .int(e.falsePositives)),
        JSONMember("false_negatives", .int(e.falseNegatives)),
        JSONMember("selection_members", .int(e.selectionMembers)),
        JSONMember("selection_non_members", .int(e.selectionNonMembers)),
        JSONMember("evaluation_members", .int(e.evaluationMembers)),
        JSONMember("evaluation_non_members", .int(e.evaluationNonMembers)),
        JSONMember("members", .int(members)),
        JSONMember("non_members", .int(nonMembers)),
        JSONMember("epsilon_lb_posthoc", .number(e.posthocBound)),
        JSONMember("posthoc_ceiling", .number(e.posthocCeiling)),
        JSONMember(
            "posthoc_note",
            .string(
                "OPTIMISTIC: the best threshold over all scores, chosen on the same scores it is evaluated on; not a valid confidence statement"
            )),
    ])
}

func oneRunJSON(_ r: OneRunAudit.Result, note: String) -> JSONValue {
    .object([
        JSONMember(
            "method",
            .string(
                "Steinke, Nasr, Jagielski 2023: largest eps with P[Binom(r, 1/(1+e^-eps)) >= v] + 2 m delta alpha < 1 - confidence, by bisection; symmetric guesses (r/2 highest in, r/2 lowest out)"
            )),
        JSONMember("epsilon_lower_bound", .number(r.best.epsilon)),
        JSONMember("guesses", .int(r.best.guesses)),
        JSONMember("correct", .int(r.best.correct)),
        JSONMember("canaries", .int(r.canaries)),
        JSONMember("ceiling", .number(r.ceiling)),
        JSONMember("delta", .number(r.delta)),
        JSONMember("confidence", .number(r.confidence)),
        JSONMember("note", .string(note)),
        JSONMember(
            "curve",
            .array(
                r.curve.map {
                    .object([
                        JSONMember("guesses", .int($0.guesses)), JSONMember("correct", .int($0.correct)),
                        JSONMember("epsilon", .number($0.epsilon)),
                    ])
                })),
    ])
}

func rocJSON(_ roc: ROCCurve) -> JSONValue {
    .object([
        JSONMember("fpr", .numbers(roc.points.map(\.fpr))),
        JSONMember("tpr", .numbers(roc.points.map(\.tpr))),
        JSONMember("thresholds", .numbers(roc.points.map(\.threshold))),
    ])
}

func fmt(_ v: Double) -> String { formatDecimal(v, digits: 4) }

func pct(_ v: Double) -> String {
    let p = v * 100
    if p == p.rounded() { return "\(Int(p))%" }
    return "\(p)%"
}

// MARK: - Figures

/// The SVG figures of audit reports.
enum Figures {
    /// ROC in linear and log-log axes, with the chance diagonal.
    static func roc(_ roc: ROCCurve, title: String, extra: [(name: String, roc: ROCCurve)] = []) -> [String] {
        let curves = [(title, roc)] + extra
        let series = curves.enumerated().map { i, c in
            PlotSeries(
                name: "\(c.0) (AUC \(formatDecimal(c.1.auc, digits: 3)))",
                points: c.1.points.map { PlotPoint($0.fpr, $0.tpr) },
                color: Palette.color(i))
        }
        let chance = PlotSeries(
            name: "chance", points: [PlotPoint(0, 0), PlotPoint(1, 1)], color: "#888888", dashed: true)
        let linear = LinePlot(
            title: "ROC (linear)", xLabel: "false positive rate", yLabel: "true positive rate",
            xRange: 0...1, yRange: 0...1, series: series + [chance])
        let floor = pow(10, (log10(0.5 / Double(max(curves.map { $0.1.nonMembers }.max() ?? 1, 1)))).rounded(.down))
        let yFloor = pow(10, (log10(0.5 / Double(max(curves.map { $0.1.members }.max() ?? 1, 1)))).rounded(.down))
        let lo = min(floor, yFloor)
        let chanceLog = PlotSeries(
            name: "chance", points: [PlotPoint(lo, lo), PlotPoint(1, 1)], color: "#888888", dashed: true)
        let logPlot = LinePlot(
            title: "ROC (log-log)", xLabel: "false positive rate", yLabel: "true positive rate",
            xScale: .log, yScale: .log, xRange: lo...1, yRange: lo...1,
            series: series.map { s in
                var t = s
                t.points = s.points.filter { $0.x > 0 || $0.y > 0 }.map { PlotPoint(max($0.x, lo), max($0.y, lo)) }
                return t
            } + [chanceLog])
        return [linear.svg(), logPlot.svg()]
    }

    static func histogram(members: [Double], nonMembers: [Double], attack: String) -> String {
        HistogramPlot(
            title: "Score distribution (\(attack))", xLabel: "attack score (higher = more likely member)",
            groups: [
                .init(name: "members", values: members, color: Palette.color(0)),
                .init(name: "non-members", values: nonMembers, color: Palette.color(1)),
            ],
            bins: 40, width: 720
        ).svg()
    }

    static func oneRun(_ r: OneRunAudit.Result, claimed: Double? = nil) -> String {
        var series = [
            PlotSeries(
                name: "one-run epsilon lower bound", points: r.curve.map { PlotPoint(Double($0.guesses), $0.epsilon) },
                color: Palette.color(0), markers: true)
        ]
        let xs = (r.curve.first.map { Double($0.guesses) } ?? 1)...(Double(r.canaries))
        series.append(
            PlotSeries(
                name: "ceiling (all \(r.canaries) right)",
                points: [PlotPoint(xs.lowerBound, r.ceiling), PlotPoint(xs.upperBound, r.ceiling)],
                color: "#888888", dashed: true))
        if let claimed, claimed.isFinite {
            series.append(
                PlotSeries(
                    name: "claimed epsilon",
                    points: [PlotPoint(xs.lowerBound, claimed), PlotPoint(xs.upperBound, claimed)],
                    color: Palette.color(1), dashed: true))
        }
        let top =
            max(r.ceiling, claimed.map { $0.isFinite ? $0 : 0 } ?? 0, r.curve.map(\.epsilon).max() ?? 0) * 1.1 + 0.1
        return LinePlot(
            title: "Epsilon vs number of guesses", xLabel: "guesses r (r/2 highest in, r/2 lowest out)",
            yLabel: "epsilon lower bound",
            xScale: .log,
            xRange: max(1, pow(10, log10(xs.lowerBound).rounded(.down)))...pow(10, log10(xs.upperBound).rounded(.up)),
            yRange: 0...top, series: series, width: 720
        ).svg()
    }

    static func oneRunCaption(_ r: OneRunAudit.Result) -> String {
        "Best: \(r.best.correct) of \(r.best.guesses) guesses correct among \(r.canaries) canaries gives epsilon >= \(fmt(r.best.epsilon)) at \(pct(r.confidence)) confidence (delta \(r.delta)); the ceiling with \(r.canaries) canaries is \(fmt(r.ceiling))."
    }
}
