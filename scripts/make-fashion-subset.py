#!/usr/bin/env python3
"""Usage: scripts/make-fashion-subset.py [--src DIR] [--out DIR] [--train N] [--test N] [--seed S]

Writes a seeded, class-balanced subset of Fashion-MNIST as gzipped IDX files (the layout of the
originals: train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-...). The package ships its
output in Sources/NeuralNet/Resources/fashion-subset so tests and the demo run on real images.
Defaults: --src /usr/share/datasets/fashion-mnist (Debian package dataset-fashion-mnist),
--out Sources/NeuralNet/Resources/fashion-subset, 4000 train and 1000 test images, seed 20240517.
Standard library only; the output is byte-identical across runs (gzip mtime fixed to 0).
"""
import argparse
import gzip
import os
import random
import struct


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    zero, dtype, ndims = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype != 0x08:
        raise SystemExit(f"{path}: not an unsigned-byte IDX file")
    dims = struct.unpack(">" + "I" * ndims, data[4:4 + 4 * ndims])
    body = data[4 + 4 * ndims:]
    size = 1
    for d in dims[1:]:
        size *= d
    if len(body) != dims[0] * size:
        raise SystemExit(f"{path}: size mismatch")
    return dims, [body[i * size:(i + 1) * size] for i in range(dims[0])]


def write_idx(path, dims, rows):
    header = struct.pack(">HBB", 0, 0x08, len(dims)) + struct.pack(">" + "I" * len(dims), *dims)
    with open(path, "wb") as raw:
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=9, mtime=0) as f:
            f.write(header + b"".join(rows))


def balanced_subset(labels, per_class, rng):
    by_class = {}
    for i, row in enumerate(labels):
        by_class.setdefault(row[0], []).append(i)
    chosen = []
    for c in sorted(by_class):
        idx = by_class[c]
        if len(idx) < per_class:
            raise SystemExit(f"class {c} has only {len(idx)} samples")
        chosen.extend(rng.sample(idx, per_class))
    rng.shuffle(chosen)
    return chosen


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--src", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--out", default="Sources/NeuralNet/Resources/fashion-subset")
    ap.add_argument("--train", type=int, default=4000)
    ap.add_argument("--test", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=20240517)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    os.makedirs(args.out, exist_ok=True)
    for split, n in (("train", args.train), ("t10k", args.test)):
        idims, images = read_idx(os.path.join(args.src, f"{split}-images-idx3-ubyte.gz"))
        _, labels = read_idx(os.path.join(args.src, f"{split}-labels-idx1-ubyte.gz"))
        if n % 10:
            raise SystemExit("subset sizes must be multiples of 10 (class-balanced)")
        chosen = balanced_subset(labels, n // 10, rng)
        write_idx(os.path.join(args.out, f"{split}-images-idx3-ubyte.gz"), (n,) + tuple(idims[1:]), [images[i] for i in chosen])
        write_idx(os.path.join(args.out, f"{split}-labels-idx1-ubyte.gz"), (n,), [labels[i] for i in chosen])
        print(f"{split}: {n} samples from {idims[0]} -> {args.out}")


if __name__ == "__main__":
    main()
