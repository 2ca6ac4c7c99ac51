import Algebra
import Circuit
import Foundation
import NeuralNet

/// What `verisplit circuit info|compile` do with a spec: build its parts on bundled samples,
/// count their constraints by kind, and write them for other Groth16 tools.
extension CircuitSpec {
    /// The bundled sample does not fit the spec, or the bundled set is too small for its batch.
    public struct SampleMismatch: Error, CustomStringConvertible {
        public let description: String
    }

    /// The spec's seeded layers and the first bundled training image in fixed point, with its
    /// label. The spec must take 1x28x28 inputs.
    public func bundledSample() throws -> (
        layers: (client: QuantizedConv2d, server: QuantizedDense), x: [Int64], label: Int
    ) {
        guard input.channels == 1, input.height == 28, input.width == 28 else {
            throw SampleMismatch(
                description: "the bundled sample is a 1x28x28 image; this spec expects "
                    + "\(input.channels)x\(input.height)x\(input.width)")
        }
        let (train, _) = try MNISTFamily.load(.bundled)
        let x = try train.features.storage[0..<784].map { try quantizeInput($0) }
        return (try sampleLayers(seed: 1), x, train.labels[0])
    }

    /// The first `batch` bundled training images, committed as a dataset of the spec's depth:
    /// the samples the batched circuits prove.
    public func bundledDataset() throws -> CommittedDataset {
        let (train, _) = try MNISTFamily.load(.bundled)
        let n = inputCount
        guard train.labels.count >= batch, train.features.storage.count >= batch * n else {
            throw SampleMismatch(description: "the bundled training set has fewer than \(batch) images")
        }
        let inputs = try (0..<batch).map { i in
            try train.features.storage[(i * n)..<((i + 1) * n)].map { try quantizeInput($0) }
        }
        return try dataset(inputs: inputs, labels: Array(train.labels[0..<batch]))
    }

    /// Constraints of every part by kind (matmul, rescale, ReLU, loss, commitments, ranges,
    /// dataset) on the bundled sample, then of every batched part, and constraints per sample.
    public func partsTable() throws -> BenchTable {
        let (layers, x, label) = try bundledSample()
        var t = BenchTable(title: "\(name): constraints per part", rows: [("cut_width", cutWidth)])
        for part in Part.allCases {
            let cs = try build(part, input: x, label: label, layers: layers, session: .one, step: 1)
            let b = ConstraintBreakdown(cs)
            let key = part.rawValue.replacingOccurrences(of: "-", with: "_")
            t.rows += [
                ("\(key)_constraints", b.total), ("\(key)_matmul", b.matmul), ("\(key)_rescale", b.rescale),
                ("\(key)_relu", b.relu), ("\(key)_loss", b.loss), ("\(key)_commitment", b.commitment),
                ("\(key)_range", b.range), ("\(key)_dataset", b.dataset),
                ("\(key)_other", b.other), ("\(key)_public_inputs", cs.publicCount),
            ]
        }
        let data = try bundledDataset()
        var batched = 0, unlinkedUpdate = 0
        t.append("batch", batch)
        for part in Part.allCases {
            let cs = try buildBatched(
                part, dataset: data, indices: Array(0..<batch), layers: layers, session: .one, step: 1)
            let key = "batched_" + part.rawValue.replacingOccurrences(of: "-", with: "_")
            t.rows += [
                ("\(key)_constraints", cs.constraintCount), ("\(key)_committed", cs.commitmentInfo?.wires.count ?? 0),
                ("\(key)_public_inputs", cs.publicCount),
            ]
            batched += cs.constraintCount
            if part == .clientUpdate { unlinkedUpdate = cs.constraintCount }
        }
        t.append("constraints_per_sample", batched / batch)
        // The update in its linked form (`CommitmentLink` to the forward proof; what keys with a
        // link key prove): the batch is opened and range-checked once, in the forward.
        let linked = try buildBatched(
            .clientUpdate, dataset: data, indices: Array(0..<batch), layers: layers, session: .one, step: 1,
            linked: true)
        t.append("batched_client_update_linked_constraints", linked.constraintCount)
        t.append("constraints_per_sample_linked", (batched - unlinkedUpdate + linked.constraintCount) / batch)
        return t
    }

    /// One part built on the bundled sample (or, `batched`, on the spec's batch of bundled
    /// images), its witness checked against its constraints.
    public func compileBundled(_ part: Part, batched: Bool, linked: Bool = false) throws -> ConstraintSystem<Fr> {
        let (layers, x, label) = try bundledSample()
        if linked && !(batched && part == .clientUpdate) {
            throw SampleMismatch(description: "only the batched client update has a linked form")
        }
        let cs =
            batched
            ? try buildBatched(
                part, dataset: try bundledDataset(), indices: Array(0..<batch), layers: layers, session: .one, step: 1,
                linked: linked)
            : try build(part, input: x, label: label, layers: layers, session: .one, step: 1)
        if let violation = cs.firstViolation() {
            throw SampleMismatch(description: "the sample's witness fails: \(violation)")
        }
        return cs
    }
}
