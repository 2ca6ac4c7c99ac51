import Algebra
import Ceremony
import Circuit
import Foundation
import Groth16
import ZKML

/// Keys for a split session from multi-party ceremonies, one per proved part, kept as
/// `ROOT/client`, `ROOT/server` and `ROOT/client-update` (each a `verisplit ceremony`
/// directory). Whoever ran a single-party setup could forge proofs; a ceremony is safe if one
/// contributor was honest *in each phase*: whoever knows the phase-1 secrets (tau, alpha, beta)
/// forges with gamma = the generator, whatever delta is, and whoever knows delta forges too. Each
/// party therefore contributes to both phases of every part and refuses keys whose transcript
/// lacks its own contribution in either phase. A phase 1 imported from a public `.ptau` (a
/// Perpetual Powers of Tau file, say) replaces the party's own phase-1 contribution only when the
/// party pinned that exact file by its SHA-256: then it trusts that public ceremony, by name.
///
/// A batched spec's update is the linked circuit (it does not open the batch again: its samples
/// are the forward proof's), so its keys need a link key (`CommitmentLink`) from a fourth
/// ceremony, `ROOT/client-link` (`LinkTranscript`), run after both client parts' phase 2 (the
/// link is made of their final commitment keys). Whoever knows both link secrets could link an
/// update to images the forward proof never opened, so each party contributes to the link too
/// and refuses keys without its contribution there. Ceremonies started for the unlinked update
/// (before the link existed) still give keys, without a link.
public enum SplitCeremony {
    /// The link ceremony's directory under the root.
    public static let linkDirectory = "client-link"

    /// Starts the three ceremonies for `spec` under `root` (phase 1 from the generators at the
    /// smallest power that fits each circuit, or phase 2 at once from an imported `.ptau`).
    /// A batched spec's update ceremony is for the linked update circuit; the link ceremony
    /// starts with its first contribution (`contributeLink`), once the client parts have keys.
    public static func create(spec: CircuitSpec, root: URL, ptau: [UInt8]? = nil) throws {
        let circuits = try SplitKeys.circuits(for: spec, linked: true)
        for part in CircuitSpec.Part.allCases {
            guard let r1cs = circuits[part] else { continue }
            _ = try CeremonyTranscript.create(
                directory: root.appendingPathComponent(part.rawValue).path,
                circuit: Circom.writeR1CS(r1cs), ptau: ptau)
        }
    }

    /// Verifies each part's ceremony in full, checks that it holds one of `receipts` (this
    /// party's own contributions) and that its circuit is the spec's, and returns the keys the
    /// ceremonies yield. Throws, naming the part, when a transcript is unsound, has no phase-2
    /// contribution yet, lacks this party's contribution or was made for another circuit.
    public static func keys(
        root: URL, spec: CircuitSpec, receipts: [ContributionReceipt], pinnedPtauSHA256: [String] = [],
        progress: @escaping (String) -> Void = { _ in }
    ) throws -> SplitKeys {
        try verify(root: root, spec: spec, progress: progress).keys(
            receipts: receipts, pinnedPtauSHA256: pinnedPtauSHA256)
    }

    /// Verifies the ceremonies in full (the costly part: every contribution's proofs and the
    /// consistency of every state), checks each was run for the spec's circuit, and verifies
    /// the link ceremony when the update is linked and the link has a contribution.
    public static func verify(
        root: URL, spec: CircuitSpec, progress: @escaping (String) -> Void = { _ in }
    ) throws -> VerifiedSplitCeremony {
        try verify(root: root, spec: spec, parts: CircuitSpec.Part.allCases, verifyingLink: true, progress: progress)
    }

    /// Verifies the `wanted` parts and, with `verifyingLink`, the link; the link's context is
    /// made whenever the update is linked and both client parts have keys.
    static func verify(
        root: URL, spec: CircuitSpec, parts wanted: [CircuitSpec.Part], verifyingLink: Bool,
        progress: (String) -> Void
    ) throws -> VerifiedSplitCeremony {
        let systems = try SplitKeys.batchedSystems(for: spec, linked: true)
        let expected = try systems?.mapValues { $0.r1cs() } ?? SplitKeys.oneSampleCircuits(for: spec)
        var parts: [CircuitSpec.Part: (directory: String, ceremony: VerifiedCeremony)] = [:]
        var linked = systems != nil
        for part in wanted {
            let directory = root.appendingPathComponent(part.rawValue).path
            progress("verifying the \(part.rawValue) ceremony")
            let verified = try CeremonyTranscript.load(directory).verify()
            let hash = Groth16.circuitHash(verified.circuit)
            if let circuit = expected[part], Groth16.circuitHash(circuit) == hash {
                parts[part] = (directory, verified)
                continue
            }
            // A ceremony started for the unlinked update, before the link existed: sound, no link.
            if part == .clientUpdate, linked,
                let unlinked = try SplitKeys.circuits(for: spec, linked: false)[part],
                Groth16.circuitHash(unlinked) == hash
            {
                linked = false
                parts[part] = (directory, verified)
                continue
            }
            throw SplitError.file(
                path: directory,
                reason: "the ceremony was run for another circuit than the spec's \(part.rawValue) part")
        }
        let linkDirectory = root.appendingPathComponent(Self.linkDirectory).path
        var link: VerifiedLinkCeremony?
        var context: LinkCeremony.Context?
        if linked, let systems, let forward = parts[.client]?.ceremony.provingKey?.commitment,
            let update = parts[.clientUpdate]?.ceremony.provingKey?.commitment
        {
            let made = LinkCeremony.Context(
                left: forward, right: update, pairs: try SplitKeys.linkPairs(for: spec, systems: systems))
            context = made
            let transcript = LinkTranscript.load(linkDirectory)
            if verifyingLink, transcript.states > 0 {
                progress("verifying the \(Self.linkDirectory) ceremony")
                link = try transcript.verify(context: made)
            }
        }
        return VerifiedSplitCeremony(
            parts: parts, linked: linked, link: link, linkContext: context, linkDirectory: linkDirectory)
    }

    /// Adds this party's contribution to the link between the client's two proofs
    /// (`ROOT/client-link`, started by the first contribution) and returns its receipt. Needs
    /// both client ceremonies verified with a phase-2 contribution: the link is made of their
    /// final commitment keys, so a later phase-2 contribution to either makes the link stale
    /// (its verification then fails, naming the cause).
    public static func contributeLink(
        root: URL, spec: CircuitSpec, name: String, progress: @escaping (String) -> Void = { _ in }
    ) throws -> ContributionReceipt {
        guard spec.usesBatchedCircuits else {
            throw SplitError.invalidArgument(
                "\(spec.name) has a batch of 1: its update opens its sample itself and needs no link")
        }
        // The link so far is verified once, by `contribute`.
        let verified = try verify(
            root: root, spec: spec, parts: [.client, .clientUpdate], verifyingLink: false, progress: progress)
        guard verified.linked else {
            throw SplitError.file(
                path: root.appendingPathComponent(CircuitSpec.Part.clientUpdate.rawValue).path,
                reason: "this ceremony is for the unlinked update, which needs no link")
        }
        guard let context = verified.linkContext else {
            let part = verified.parts[.client]?.ceremony.provingKey == nil ? CircuitSpec.Part.client : .clientUpdate
            throw SplitError.file(
                path: root.appendingPathComponent(part.rawValue).path,
                reason:
                    "the ceremony has no phase-2 contribution yet: finish both client parts' phase 2 before the link")
        }
        var transcript = LinkTranscript.load(verified.linkDirectory)
        progress("contributing to the \(Self.linkDirectory) ceremony")
        return try transcript.contribute(name: name, context: context)
    }
}

/// The verified ceremonies, before a party decides whether to trust their keys.
public struct VerifiedSplitCeremony: Sendable {
    let parts: [CircuitSpec.Part: (directory: String, ceremony: VerifiedCeremony)]
    /// True when the update ceremony is for the linked update circuit (keys then need the link).
    public let linked: Bool
    /// The verified link ceremony; nil before its first contribution.
    public let link: VerifiedLinkCeremony?
    /// What the link is made of (the client parts' final commitment keys and the spec's pairs);
    /// nil unless the update is linked and both client parts have keys.
    let linkContext: LinkCeremony.Context?
    let linkDirectory: String

    /// The keys, if every part has a phase-2 contribution from this party (one of `receipts`) and
    /// a phase 1 it trusts: its own contribution, or an imported `.ptau` it pinned by SHA-256;
    /// for a linked update, also the link, with this party's contribution.
    public func keys(receipts: [ContributionReceipt], pinnedPtauSHA256: [String] = []) throws -> SplitKeys {
        guard !receipts.isEmpty else {
            throw SplitError.invalidArgument(
                "give this party's ceremony receipts (--receipt FILE for each part and phase it contributed to)")
        }
        let pins = Set(pinnedPtauSHA256.map { $0.lowercased() })
        func load(_ part: CircuitSpec.Part) throws -> PartKey {
            guard let (directory, verified) = parts[part] else {
                throw SplitError.invalidArgument("no \(part.rawValue) ceremony")
            }
            guard let key = verified.provingKey else {
                throw SplitError.file(
                    path: directory,
                    reason: "the ceremony has no phase-2 contribution yet: its keys would let anyone forge proofs")
            }
            guard receipts.contains(where: { $0.phase == 2 && verified.contains($0) }) else {
                throw SplitError.ceremonyLacksContribution(path: directory, phase: 2, importedPtauSHA256: nil)
            }
            let ownPhase1 = receipts.contains { $0.phase == 1 && verified.contains($0) }
            let pinned = !verified.phase1StartsFromGenerators && pins.contains(verified.phase1StartSHA256)
            guard ownPhase1 || pinned else {
                throw SplitError.ceremonyLacksContribution(
                    path: directory, phase: 1,
                    importedPtauSHA256: verified.phase1StartsFromGenerators ? nil : verified.phase1StartSHA256)
            }
            return PartKey(part: part, provingKey: key, r1cs: verified.circuit)
        }
        let forward = try load(.client), server = try load(.server), update = try load(.clientUpdate)
        guard linked else { return SplitKeys(forward: forward, server: server, update: update) }
        guard let link else {
            throw SplitError.file(
                path: linkDirectory,
                reason:
                    "the link between the client's proofs has no contribution yet: after both client parts' phase 2, every party runs `verisplit split ceremony-link`"
            )
        }
        guard receipts.contains(where: { $0.phase == LinkTranscript.phase && link.contains($0) }) else {
            throw SplitError.ceremonyLacksContribution(
                path: linkDirectory, phase: LinkTranscript.phase, importedPtauSHA256: nil)
        }
        return SplitKeys(forward: forward, server: server, update: update, link: link.key)
    }
}
