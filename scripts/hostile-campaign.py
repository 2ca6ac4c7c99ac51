#!/usr/bin/env python3
"""Usage: scripts/hostile-campaign.py [--bin PATH] [--work DIR] [--kinds K1,K2,...] [--mutants N]
                                      [--seed S] [--cases] [--save FILE] [--merge FILE...] [--list]

A bad-input campaign against the `verisplit` command line, as a hostile peer or file would play
it. For every input kind (--list shows them) it writes N mutants (default 300) of valid seed
files made in --work (default .build-campaign/; made on first use with the binary itself):
bit and byte flips, truncations, insertions, deletions, duplicated and spliced ranges, huge
length fields, wrong JSON types, deep nesting, values at and above the field moduli, off-curve
coordinates, swapped points with recomputed checksums, gzip streams inflating past their
declared size, deleted and swapped ceremony files. Each mutant runs through the command that
reads that kind, with SWIFT_BACKTRACE=enable=no, and is classified:

  trap        killed by a signal (a Swift trap is SIGILL, exit 132 in a shell)
  hang        still running after 20 s (killed)
  peak        peak resident memory above 512 MB (killed above 2 GB to protect the machine)
  wrong valid exit 0 although the output claims something false: a mutated key, proof or public
              input that `verify` calls valid, a mutated ceremony that verifies with the last
              contributor's receipt, a proof from `prove` that does not verify, a noised model
              with non-finite weights or an invalid privacy record
  clean error exit 1 or 2 with a message (standard error, or a verdict such as "invalid: ..."
              on standard output)
  accepted    exit 0 and nothing wrong (e.g. a mutation in a field the reader ignores)
  other       any other exit (e.g. 64, or an error without a message)

It prints one table row per kind. --cases runs the regression cases of issue 24 instead (each must
give a one-line error with exit 1 or 2 in under 1 s and under 256 MB). --save writes the results
as JSON so a long campaign can run in chunks (--kinds); --merge prints the table of saved chunks.
Findings (the mutant and the first line of its error) go to WORK/findings/. Exit status 1 if
anything but clean errors and correct acceptances was seen.
Standard library only. Deterministic for a given --seed (except the timings).
"""
import argparse
import glob
import gzip
import hashlib
import json
import os
import random
import shutil
import signal
import struct
import subprocess
import sys
import time
import zlib

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HANG_SECONDS = 20.0
PEAK_MB = 512
KILL_MB = 2048
Q = 21888242871839275222246405745257275088696311157297823662689037894645226208583
R = 21888242871839275222246405745257275088548364400416034343698204186575808495617
OUTCOMES = ["clean error", "accepted", "trap", "hang", "peak", "wrong valid", "other"]


# ---------------------------------------------------------------------------------------------
# Running one command: exit code, wall time, peak RSS (from wait4), with a hang and memory guard.

class Run:
    def __init__(self, code, seconds, peak_mb, stdout, stderr, killed=None):
        self.code, self.seconds, self.peak_mb = code, seconds, peak_mb
        self.stdout, self.stderr, self.killed = stdout, stderr, killed

    @property
    def first_error_line(self):
        """The error: standard error's first line, else (a verdict such as "invalid: ...")
        standard output's first line."""
        for stream in (self.stderr, self.stdout):
            lines = [l for l in stream.splitlines() if l.strip()]
            if lines:
                return lines[0][:300]
        return ""


def rss_mb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0


def run(argv, cwd, timeout=HANG_SECONDS):
    env = dict(os.environ, SWIFT_BACKTRACE="enable=no")
    out_path, err_path = os.path.join(cwd, ".stdout"), os.path.join(cwd, ".stderr")
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        start = time.monotonic()
        p = subprocess.Popen(argv, cwd=cwd, stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=env)
        killed, status, usage = None, None, None
        while True:
            pid, st, ru = os.wait4(p.pid, os.WNOHANG)
            if pid:
                status, usage = st, ru
                break
            elapsed = time.monotonic() - start
            if elapsed > timeout:
                killed = "hang"
            elif rss_mb(p.pid) > KILL_MB:
                killed = "peak"
            if killed:
                os.kill(p.pid, signal.SIGKILL)
                _, status, usage = os.wait4(p.pid, 0)
                break
            time.sleep(0.005 if elapsed < 1 else 0.05)
        seconds = time.monotonic() - start
    p.returncode = 0  # reaped by wait4 above
    code = os.waitstatus_to_exitcode(status)
    with open(out_path, "rb") as f:
        stdout = f.read().decode("utf-8", "replace")
    with open(err_path, "rb") as f:
        stderr = f.read().decode("utf-8", "replace")
    return Run(code, seconds, usage.ru_maxrss / 1024, stdout, stderr, killed)


def classify(r, wrong_valid):
    """One outcome per run; the worst one wins."""
    if r.killed == "hang":
        return "hang"
    if r.code < 0:
        return "trap"
    if r.killed == "peak" or r.peak_mb > PEAK_MB:
        return "peak"
    if r.code == 0:
        return "wrong valid" if wrong_valid else "accepted"
    if r.code in (1, 2) and r.first_error_line:
        return "clean error"
    return "other"


# ---------------------------------------------------------------------------------------------
# BN254 G1 in affine coordinates (enough to forge under a degenerate key).

def g1_add(p, q):
    if p is None:
        return q
    if q is None:
        return p
    (x1, y1), (x2, y2) = p, q
    if x1 == x2 and (y1 + y2) % Q == 0:
        return None
    if p == q:
        m = 3 * x1 * x1 * pow(2 * y1, -1, Q) % Q
    else:
        m = (y2 - y1) * pow(x2 - x1, -1, Q) % Q
    x3 = (m * m - x1 - x2) % Q
    return (x3, (m * (x1 - x3) - y1) % Q)


def g1_mul(p, k):
    acc = None
    while k:
        if k & 1:
            acc = g1_add(acc, p)
        p = g1_add(p, p)
        k >>= 1
    return acc


def g1_from_json(v):
    return (int(v[0]), int(v[1])) if v[2] == "1" else None


def g1_to_json(p):
    return ["0", "1", "0"] if p is None else [str(p[0]), str(p[1]), "1"]


# ---------------------------------------------------------------------------------------------
# Mutators. Each returns (bytes, description).

HUGE = [0xFFFFFFFF, 0x7FFFFFFF, 0x80000000, 0x10000000, 0x01000000, 0xFFFF, 0]
HUGE64 = [0xFFFFFFFFFFFFFFFF, 0x7FFFFFFFFFFFFFFF, 1 << 40, 1 << 33, 1 << 31]


def mutate_bytes(rng, data):
    data = bytearray(data)
    n = len(data)
    op = rng.choice(["flip", "byte", "multi", "truncate", "insert", "delete", "duplicate", "u32", "u64",
                     "zero", "append", "splice"])
    if n == 0:
        op = "append"
    if op == "flip":
        i = rng.randrange(n); data[i] ^= 1 << rng.randrange(8); desc = f"flip bit at {i}"
    elif op == "byte":
        i = rng.randrange(n); data[i] = rng.randrange(256); desc = f"set byte {i}"
    elif op == "multi":
        k = rng.randint(2, 8)
        for _ in range(k):
            data[rng.randrange(n)] = rng.randrange(256)
        desc = f"set {k} bytes"
    elif op == "truncate":
        cut = rng.randrange(n); data = data[:cut]; desc = f"truncate to {cut}"
    elif op == "insert":
        i, k = rng.randrange(n + 1), rng.randint(1, 64)
        data[i:i] = bytes(rng.randrange(256) for _ in range(k)); desc = f"insert {k} bytes at {i}"
    elif op == "delete":
        i = rng.randrange(n); k = rng.randint(1, min(64, n - i)); del data[i:i + k]; desc = f"delete {k} bytes at {i}"
    elif op == "duplicate":
        i = rng.randrange(n); k = rng.randint(1, min(256, n - i)); data[i:i] = data[i:i + k]; desc = f"duplicate {k} bytes at {i}"
    elif op == "u32" and n >= 4:
        i = rng.randrange(n // 4) * 4; v = rng.choice(HUGE + [n * 8, n + 1])
        data[i:i + 4] = struct.pack(rng.choice(["<I", ">I"]), v & 0xFFFFFFFF); desc = f"u32 {v:#x} at {i}"
    elif op == "u64" and n >= 8:
        i = rng.randrange(n // 4) * 4; i = min(i, n - 8); v = rng.choice(HUGE64)
        data[i:i + 8] = struct.pack("<Q", v); desc = f"u64 {v:#x} at {i}"
    elif op == "zero":
        i = rng.randrange(n); k = rng.randint(1, min(512, n - i)); data[i:i + k] = bytes(k); desc = f"zero {k} bytes at {i}"
    elif op == "splice" and n >= 128:
        k = rng.choice([32, 64, 128]); a, b = rng.randrange(n - k), rng.randrange(n - k)
        data[b:b + k] = data[a:a + k]; desc = f"copy {k} bytes {a} -> {b}"
    else:
        k = rng.randint(1, 4096); data += bytes(rng.randrange(256) for _ in range(k)); desc = f"append {k} bytes"
    return bytes(data), desc


def swap_points(data, a, b, size):
    d = bytearray(data)
    d[a:a + size], d[b:b + size] = data[b:b + size], data[a:a + size]
    return bytes(d)


def keyfile_g1_lists(data):
    """(start, count) of the IC, A and B1 lists of a VeriSplit proving.key (see KeyFile.swift)."""
    at = 4 + 4 + 32
    circuit_len = struct.unpack("<Q", data[at:at + 8])[0]
    at += 8 + circuit_len + 4 + 1 + 3 * 64 + 3 * 128
    lists = []
    for _ in range(3):
        count = struct.unpack("<I", data[at:at + 4])[0]
        lists.append((at + 4, count))
        at += 4 + 64 * count
    return [(start, count) for start, count in lists if count >= 2]


def binfile_sections(data):
    """Section id -> (body offset, size) of a binfileutils container (.zkey, .ptau)."""
    out, at = {}, 12
    for _ in range(struct.unpack("<I", data[8:12])[0]):
        sid, size = struct.unpack("<IQ", data[at:at + 12])
        out[sid] = (at + 12, size)
        at += 12 + size
    return out


def paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from paths(v, prefix + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from paths(v, prefix + (i,))


def get(value, path):
    for p in path:
        value = value[p]
    return value


def put(value, path, new):
    if not path:
        return new
    get(value, path[:-1])[path[-1]] = new
    return value


def mutate_json(rng, text):
    try:
        doc = json.loads(text)
    except ValueError:
        return mutate_bytes(rng, text)
    if rng.random() < 0.25:
        return mutate_bytes(rng, text)
    all_paths = list(paths(doc))
    path = rng.choice(all_paths)
    node = get(doc, path)
    op = rng.choice(["type", "type", "number", "number", "delete", "grow", "deep", "rename", "swap"])
    desc = f"{op} at {'/'.join(map(str, path)) or '(root)'}"
    if op == "type":
        doc = put(doc, path, rng.choice([0, -1, 1e308, -1e308, 2**64, "", "x", [], {}, None, True, [[1]], {"a": 1}]))
    elif op == "number":
        if isinstance(node, str) and node.isdigit():
            v = int(node)
            new = rng.choice([v + 1, v - 1, v * 2, Q, Q + 1, R, R + 1, 10**100, -v, 0])
            s = str(new)
            if rng.random() < 0.2:
                s = "0" + s
            doc = put(doc, path, s)
        elif isinstance(node, (int, float)) and not isinstance(node, bool):
            doc = put(doc, path, rng.choice([0, -1, 2**31, 2**32 + 1, 2**63, 10**9, node * 1000, node + 1, 1e308, 0.5]))
        else:
            doc = put(doc, path, rng.choice([str(Q), str(R), "-1", "1e308"]))
    elif op == "delete" and path:
        parent = get(doc, path[:-1])
        del parent[path[-1]]
    elif op == "grow" and isinstance(node, list) and node:
        doc = put(doc, path, node * rng.choice([2, 10, 1000]))
    elif op == "deep":
        depth = rng.choice([100, 10000, 100000])
        nested = "[" * depth + "]" * depth
        desc = f"deep nesting {depth} at {'/'.join(map(str, path)) or '(root)'}"
        if path == ():
            return nested.encode(), desc
        return json.dumps(put(doc, path, "__DEEP__")).replace('"__DEEP__"', nested).encode(), desc
    elif op == "rename" and isinstance(node, dict) and node:
        k = rng.choice(list(node)); node[k + "x"] = node.pop(k); desc += f" ({k})"
    elif op == "swap" and isinstance(node, list) and len(node) >= 2:
        i, j = rng.sample(range(len(node)), 2); node[i], node[j] = node[j], node[i]
    else:
        doc = put(doc, path, None)
    indent = rng.choice([None, 1, 2])
    return json.dumps(doc, indent=indent).encode(), desc


def gzip_bytes(data):
    return gzip.compress(data, compresslevel=6, mtime=0)


def zero_members(mib):
    """`mib` concatenated gzip members of 1 MiB of zeros each (about 1 kB per MiB)."""
    member = gzip.compress(bytes(1 << 20), compresslevel=9, mtime=0)
    return member * mib


# ---------------------------------------------------------------------------------------------
# Fixtures: valid files made with the binary itself, once per work directory.

class Fixtures:
    def __init__(self, binary, work):
        self.bin, self.work = binary, work
        self.dir = os.path.join(work, "fixtures")

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def cli(self, *args):
        r = run([self.bin, *args], self.dir, timeout=600)
        if r.code != 0:
            sys.exit(f"fixture step failed: verisplit {' '.join(args)}: {r.stderr.strip()}")
        return r

    def make(self):
        marker = self.path("ready")
        if os.path.exists(marker):
            return
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(self.dir)
        sq = os.path.join(REPO, "Tests", "CircuitTests", "Resources", "square64")
        for name in ["square64.r1cs", "square64.wtns"]:
            shutil.copy(os.path.join(sq, name), self.path(name))
        shutil.copy(os.path.join(REPO, "Tests", "CeremonyTests", "Resources", "pot8_final.ptau"), self.path("pot8.ptau"))
        self.cli("setup", "square64.r1cs", "--out", "keys")
        self.cli("prove", "--key", "keys/proving.key", "--witness", "square64.wtns", "--proof", "proof.json",
                 "--public", "public.json")
        self.cli("ceremony", "new", "square64.r1cs", "--out", "ceremony")
        self.cli("ceremony", "contribute", "ceremony", "--name", "alice", "--receipt", "alice.json")
        self.cli("ceremony", "contribute", "ceremony", "--name", "bob", "--phase", "2", "--receipt", "bob.json")
        self.cli("ceremony", "contribute", "ceremony", "--name", "carol", "--phase", "2", "--receipt", "carol.json")
        self.cli("ceremony", "export-keys", "ceremony", "--out", "ckeys")
        self.cli("train", "--epochs", "1", "--out", "mlp.safetensors")
        self.cli("dp", "train", "--epochs", "1", "--epsilon", "3", "--out", "dp.safetensors")
        data = os.path.join(REPO, "Sources", "NeuralNet", "Resources", "fashion-subset")
        os.makedirs(self.path("idx"))
        for name in os.listdir(data):
            if name.endswith(".gz"):
                shutil.copy(os.path.join(data, name), self.path("idx", name))
        # A CSV of 60 test images (784 pixels and the label), for the audit's CSV reader.
        images = gzip.decompress(open(os.path.join(data, "t10k-images-idx3-ubyte.gz"), "rb").read())[16:]
        labels = gzip.decompress(open(os.path.join(data, "t10k-labels-idx1-ubyte.gz"), "rb").read())[8:]
        for name, lo in [("members.csv", 0), ("others.csv", 60)]:
            with open(self.path(name), "w") as f:
                f.write(",".join(f"p{i}" for i in range(784)) + ",label\n")
                for k in range(lo, lo + 60):
                    f.write(",".join(str(b) for b in images[784 * k:784 * (k + 1)]) + f",{labels[k]}\n")
        self.cli("split", "run", "--spec", os.path.join(REPO, "circuits", "tiny.json"), "--mode", "ledger", "--steps", "3",
                 "--state", "session")
        # A verified session of the same spec, under keys on disk: its record must stand on its proofs.
        self.cli("split", "keys", "--spec", os.path.join(REPO, "circuits", "tiny.json"), "--out", "tiny-keys")
        self.cli("split", "run", "--spec", os.path.join(REPO, "circuits", "tiny.json"), "--mode", "verified", "--steps", "2",
                 "--keys", "tiny-keys", "--state", "verified-session")
        open(marker, "w").write("ok\n")


# ---------------------------------------------------------------------------------------------
# Input kinds: seeds, how to mutate, the command that reads them, and what a wrong "valid" is.

def semantic(kind, raw):
    """The values a verifier acts on, or None if unparsable (for judging exit 0)."""
    try:
        doc = json.loads(raw)
    except ValueError:
        return None
    if kind == "vk" and isinstance(doc, dict):
        return [doc.get(k) for k in ["vk_alpha_1", "vk_beta_2", "vk_gamma_2", "vk_delta_2", "IC"]]
    if kind == "proof" and isinstance(doc, dict):
        return [doc.get(k) for k in ["pi_a", "pi_b", "pi_c"]]
    if kind == "receipt" and isinstance(doc, dict):
        return [doc.get("phase"), doc.get("index"), str(doc.get("hash", "")).lower()]
    return doc


class Kind:
    def __init__(self, name, seed, mutate, command, judge=None, note=""):
        self.name, self.seed, self.mutate, self.command, self.judge, self.note = name, seed, mutate, command, judge, note


def kinds(fx):
    F = fx.path
    B = fx.bin

    def binary(rng, data):
        return mutate_bytes(rng, data)

    def keyfile(rng, data):
        if rng.random() < 0.3:
            # Swap two points of one G1 query (every point stays valid), as an altered key would.
            lists = keyfile_g1_lists(data)
            start, count = rng.choice(lists)
            i, j = rng.randrange(count), rng.randrange(count)
            mutated, desc = swap_points(data, start + 64 * i, start + 64 * j, 64), f"swap G1 points {i}, {j} at {start}"
        else:
            mutated, desc = mutate_bytes(rng, data)
        if rng.random() < 0.6 and len(mutated) > 32:
            mutated = mutated[:-32] + hashlib.sha256(mutated[:-32]).digest()
            desc += ", checksum recomputed"
        return mutated, desc

    def zkey(rng, data):
        if rng.random() < 0.3:
            # Swap two points of the A, B1, L or H section (snarkjs layout, all valid points).
            sections = binfile_sections(data)
            sid = rng.choice([i for i in (5, 6, 8, 9) if i in sections and sections[i][1] >= 128])
            start, size = sections[sid]
            i, j = rng.randrange(size // 64), rng.randrange(size // 64)
            return swap_points(data, start + 64 * i, start + 64 * j, 64), f"swap points {i}, {j} of section {sid}"
        return mutate_bytes(rng, data)

    def jsonm(rng, data):
        return mutate_json(rng, data)

    def prove_judge(kind):
        def judge(r, mutant_dir, raw):
            if r.code != 0:
                return False
            v = run([B, "verify", "--vk", F("keys", "verification_key.json") if kind == "proving-key" else F("ckeys", "verification_key.json"),
                     "--proof", os.path.join(mutant_dir, "proof.json"), "--public", os.path.join(mutant_dir, "public.json")], mutant_dir)
            return v.code != 0
        return judge

    def verify_judge(kind, original):
        base = semantic(kind, original)

        def judge(r, mutant_dir, raw):
            return r.code == 0 and semantic(kind, raw) != base
        return judge

    def ceremony_judge(r, mutant_dir, raw):
        return r.code == 0 and raw != b"unchanged"

    def noise_judge(r, mutant_dir, raw):
        if r.code != 0:
            return False
        out = os.path.join(mutant_dir, "out.safetensors")
        try:
            b = open(out, "rb").read()
            n = struct.unpack("<Q", b[:8])[0]
            header = json.loads(b[8:8 + n])
            meta = header.get("__metadata__", {})
            eps, delta = float(meta["epsilon"]), float(meta["delta"])
            if not (eps > 0 and 0 < delta < 1) or meta.get("proven") not in ("true", "false"):
                return True
            for name, t in header.items():
                if name == "__metadata__" or t.get("dtype") != "F32":
                    continue
                lo, hi = t["data_offsets"]
                data = b[8 + n + lo:8 + n + hi]
                values = struct.unpack(f"<{len(data) // 4}f", data)
                if any(v != v or v in (float("inf"), float("-inf")) for v in values):
                    return True
        except (OSError, ValueError, KeyError, struct.error):
            return True
        return False

    def record_lines(raw):
        try:
            return [json.loads(line) for line in raw.decode("utf-8").splitlines() if line.strip()]
        except ValueError:
            return None

    def record_judge_of(session):
        def judge(r, mutant_dir, raw):
            original = record_lines(open(F(session, "client", "record.jsonl"), "rb").read())
            return r.code == 0 and record_lines(raw) != original
        return judge

    def server_record(session):
        return glob.glob(F(session, "server", "sessions", "*", "record.jsonl"))[0]

    vk = open(F("keys", "verification_key.json"), "rb").read()
    proof = open(F("proof.json"), "rb").read()
    public = open(F("public.json"), "rb").read()
    receipt = open(F("carol.json"), "rb").read()
    tiny = os.path.join(REPO, "circuits", "tiny.json")
    split = os.path.join(REPO, "circuits", "split.json")
    mlp = os.path.join(REPO, "Sources", "NeuralNet", "Resources", "models", "mlp-784-128-10.json")
    cnn = os.path.join(REPO, "Sources", "NeuralNet", "Resources", "models", "cnn-small.json")

    return [
        Kind("r1cs", [F("square64.r1cs")], binary, lambda m, d: [B, "r1cs", "info", m]),
        Kind("wtns", [F("square64.wtns")], binary,
             lambda m, d: [B, "prove", "--key", F("keys", "proving.key"), "--witness", m, "--proof", "proof.json", "--public", "public.json"],
             prove_judge("proving-key")),
        Kind("proving-key", [F("keys", "proving.key")], keyfile,
             lambda m, d: [B, "prove", "--key", m, "--witness", F("square64.wtns"), "--proof", "proof.json", "--public", "public.json"],
             prove_judge("proving-key"), "30 % swap two valid points of one query; 60 % with the SHA-256 checksum recomputed"),
        Kind("zkey", [F("ckeys", "circuit_final.zkey")], zkey,
             lambda m, d: [B, "prove", "--key", m, "--witness", F("square64.wtns"), "--proof", "proof.json", "--public", "public.json"],
             prove_judge("zkey"), "30 % swap two valid points of one query"),
        Kind("ptau", [F("pot8.ptau")], binary,
             lambda m, d: [B, "ceremony", "new", F("square64.r1cs"), "--out", os.path.join(d, "c"), "--ptau", m]),
        Kind("ceremony", [F("ceremony")], None,
             lambda m, d: [B, "ceremony", "verify", m, "--receipt", F("carol.json")], ceremony_judge,
             "a state file mutated, deleted or swapped with another; verified with the last receipt"),
        Kind("receipt", [F("carol.json")], jsonm,
             lambda m, d: [B, "ceremony", "verify", F("ceremony"), "--receipt", m], verify_judge("receipt", receipt)),
        Kind("vk", [F("keys", "verification_key.json")], jsonm,
             lambda m, d: [B, "verify", "--vk", m, "--proof", F("proof.json"), "--public", F("public.json")], verify_judge("vk", vk)),
        Kind("proof", [F("proof.json")], jsonm,
             lambda m, d: [B, "verify", "--vk", F("keys", "verification_key.json"), "--proof", m, "--public", F("public.json")],
             verify_judge("proof", proof)),
        Kind("public", [F("public.json")], jsonm,
             lambda m, d: [B, "verify", "--vk", F("keys", "verification_key.json"), "--proof", F("proof.json"), "--public", m],
             verify_judge("public", public)),
        Kind("vk-solidity", [F("keys", "verification_key.json")], jsonm,
             lambda m, d: [B, "export", "solidity", "--vk", m, "--out", os.path.join(d, "V.sol")]),
        Kind("safetensors", [F("mlp.safetensors")], binary,
             lambda m, d: [B, "eval", "--weights", m]),
        Kind("dp-model", [F("dp.safetensors")], binary,
             lambda m, d: [B, "dp", "noise", "--method", "post-dpsgd", "--model", m, "--out", os.path.join(d, "out.safetensors"),
                           "--epsilon", "1", "--noise-seed", "1"], noise_judge,
             "post-dpsgd noise; wrong valid = non-finite weights or an invalid record written"),
        Kind("idx", [F("idx")], None,
             lambda m, d: [B, "eval", "--weights", F("mlp.safetensors"), "--data", m], None,
             "one of the four gzipped files: raw bytes, inflated bytes re-gzipped, or zeros past the declared size"),
        Kind("csv", [F("members.csv")], binary,
             lambda m, d: [B, "audit", "mia", "--model", F("mlp.safetensors"), "--train", m, "--test", F("others.csv"),
                           "--attack", "loss", "--examples", "50", "--out", os.path.join(d, "report")]),
        Kind("model-spec", [mlp, cnn], jsonm,
             lambda m, d: [B, "eval", "--model", m, "--weights", F("mlp.safetensors")]),
        Kind("circuit-spec", [tiny, split], jsonm, lambda m, d: [B, "circuit", "info", m]),
        Kind("session-record", [F("session", "client", "record.jsonl")], binary,
             lambda m, d: [B, "split", "verify-transcript", m, "--spec", tiny, "--peer", server_record("session")],
             record_judge_of("session"), "ledger mode, checked against the server's untouched record (--peer)"),
        Kind("session-record-verified", [F("verified-session", "client", "record.jsonl")], binary,
             lambda m, d: [B, "split", "verify-transcript", m, "--spec", tiny, "--keys", F("tiny-keys")],
             record_judge_of("verified-session"), "verified mode, on its own: every claim stands on the proofs"),
    ]


def make_mutant(kind, rng, mutant_dir):
    """Writes the mutant under mutant_dir; returns (path, description, raw bytes for the judge)."""
    seed = rng.choice(kind.seed)
    base = os.path.basename(seed.rstrip("/"))
    target = os.path.join(mutant_dir, base)
    if kind.name == "ceremony":
        shutil.copytree(seed, target)
        files = sorted(os.path.join(p, f) for p in ["phase1", "phase2"] for f in os.listdir(os.path.join(target, p)))
        files.append("circuit.r1cs")
        pick = rng.choice(files)
        full = os.path.join(target, pick)
        op = rng.random()
        if op < 0.1:
            os.remove(full); desc = f"delete {pick}"
        elif op < 0.2:
            other = rng.choice(files)
            if other == pick:
                return target, "unchanged", b"unchanged"
            a, b = open(full, "rb").read(), open(os.path.join(target, other), "rb").read()
            open(full, "wb").write(b); open(os.path.join(target, other), "wb").write(a); desc = f"swap {pick}, {other}"
        else:
            data, desc = mutate_bytes(rng, open(full, "rb").read())
            if data == open(full, "rb").read():
                return target, "unchanged", b"unchanged"
            open(full, "wb").write(data); desc = f"{pick}: {desc}"
        return target, desc, b"changed"
    if kind.name == "idx":
        os.makedirs(target)
        names = sorted(os.listdir(seed))
        pick = rng.choice(names)
        for n in names:
            if n != pick:
                os.link(os.path.join(seed, n), os.path.join(target, n))
        raw = open(os.path.join(seed, pick), "rb").read()
        op = rng.random()
        if op < 0.4:
            data, desc = mutate_bytes(rng, raw)
        elif op < 0.9:
            data, desc = mutate_bytes(rng, gzip.decompress(raw))
            data = gzip_bytes(data); desc = "inflated, " + desc + ", re-gzipped"
        else:
            mib = rng.choice([64, 256, 1024])
            data = raw + zero_members(mib); desc = f"{mib} MiB of zeros past the declared size"
        open(os.path.join(target, pick), "wb").write(data)
        return target, f"{pick}: {desc}", data
    raw = open(seed, "rb").read()
    data, desc = kind.mutate(rng, raw)
    if kind.name.startswith("session-record"):
        base = "record.jsonl"
        target = os.path.join(mutant_dir, base)
    open(target, "wb").write(data)
    return target, desc, data


def campaign(fx, selected, mutants, seed):
    results = {}
    findings_dir = os.path.join(fx.work, "findings")
    os.makedirs(findings_dir, exist_ok=True)
    for kind in kinds(fx):
        if selected and kind.name not in selected:
            continue
        rng = random.Random(f"{seed}/{kind.name}")
        counts = {o: 0 for o in OUTCOMES}
        worst = {"seconds": 0.0, "peak_mb": 0.0}
        examples = []
        start = time.monotonic()
        for i in range(mutants):
            mutant_dir = os.path.join(fx.work, "mutant")
            shutil.rmtree(mutant_dir, ignore_errors=True)
            os.makedirs(mutant_dir)
            path, desc, raw = make_mutant(kind, rng, mutant_dir)
            r = run(kind.command(path, mutant_dir), mutant_dir)
            wrong = bool(kind.judge and kind.judge(r, mutant_dir, raw))
            outcome = classify(r, wrong)
            counts[outcome] += 1
            worst["seconds"] = max(worst["seconds"], r.seconds)
            worst["peak_mb"] = max(worst["peak_mb"], r.peak_mb)
            if outcome not in ("clean error", "accepted"):
                keep = os.path.join(findings_dir, f"{kind.name}-{i}")
                shutil.rmtree(keep, ignore_errors=True)
                shutil.copytree(mutant_dir, keep, symlinks=True)
                examples.append({"mutant": i, "outcome": outcome, "mutation": desc, "exit": r.code,
                                 "seconds": round(r.seconds, 2), "peak_mb": round(r.peak_mb), "error": r.first_error_line,
                                 "kept": keep})
                print(f"  {kind.name} #{i}: {outcome} ({desc}; exit {r.code}, {r.seconds:.1f} s, {r.peak_mb:.0f} MB) "
                      f"{r.first_error_line[:160]}", file=sys.stderr)
        results[kind.name] = {"mutants": mutants, "counts": counts, "max_seconds": round(worst["seconds"], 2),
                              "max_peak_mb": round(worst["peak_mb"]), "findings": examples, "note": kind.note,
                              "minutes": round((time.monotonic() - start) / 60, 1)}
        print(f"{kind.name}: {counts} (max {worst['seconds']:.2f} s, {worst['peak_mb']:.0f} MB)", file=sys.stderr)
    return results


def table(results):
    header = ["input kind", "mutants", "clean error", "accepted", "trap", "hang > 20 s", "peak > 512 MB", "wrong valid",
              "other", "slowest", "largest peak"]
    rows = []
    total = {o: 0 for o in OUTCOMES}
    n = 0
    for name, r in results.items():
        c = r["counts"]
        n += r["mutants"]
        for o in OUTCOMES:
            total[o] += c[o]
        rows.append([name, r["mutants"], c["clean error"], c["accepted"], c["trap"], c["hang"], c["peak"], c["wrong valid"],
                     c["other"], f"{r['max_seconds']:.2f} s", f"{r['max_peak_mb']} MB"])
    rows.append(["total", n, total["clean error"], total["accepted"], total["trap"], total["hang"], total["peak"],
                 total["wrong valid"], total["other"], "", ""])
    out = ["| " + " | ".join(header) + " |", "| " + " | ".join("---" for _ in header) + " |"]
    out += ["| " + " | ".join(str(x) for x in row) + " |" for row in rows]
    return "\n".join(out), total


# ---------------------------------------------------------------------------------------------
# The regression cases of issue 24, through the command line.

def cases(fx):
    work = os.path.join(fx.work, "cases")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    B, F = fx.bin, fx.path
    W = lambda *p: os.path.join(work, *p)
    data = F("idx")

    def idx_dir(name, t10k_images=None, t10k_labels=None, train_images=None):
        d = W(name)
        shutil.copytree(data, d)
        for fname, content in [("t10k-images-idx3-ubyte.gz", t10k_images), ("t10k-labels-idx1-ubyte.gz", t10k_labels),
                               ("train-images-idx3-ubyte.gz", train_images)]:
            if content is not None:
                open(os.path.join(d, fname), "wb").write(content)
        return d

    labels = bytearray(gzip.decompress(open(os.path.join(data, "t10k-labels-idx1-ubyte.gz"), "rb").read()))
    labels[8] = 10  # the first test label: one past the model's 10 outputs
    bad_labels = idx_dir("label10", t10k_labels=gzip_bytes(bytes(labels)))
    images = gzip.decompress(open(os.path.join(data, "t10k-images-idx3-ubyte.gz"), "rb").read())
    count = struct.unpack(">I", images[4:8])[0]
    narrow = bytearray(struct.pack(">IIII", 0x803, count, 28, 27))
    for k in range(count):
        narrow += images[16 + 784 * k:16 + 784 * k + 756]
    bad_shape = idx_dir("shape", t10k_images=gzip_bytes(bytes(narrow)))
    train_images = open(os.path.join(data, "train-images-idx3-ubyte.gz"), "rb").read()
    bomb = idx_dir("bomb", train_images=train_images + zero_members(1024))

    spec = json.load(open(os.path.join(REPO, "circuits", "split.json")))
    spec["server"]["outputs"] = 1000
    json.dump(spec, open(W("outputs1000.json"), "w"))
    spec = json.load(open(os.path.join(REPO, "circuits", "demo.json")))
    spec["client"] = {"out_channels": 64, "kernel": 3, "stride": 1}
    json.dump(spec, open(W("conv.json"), "w"))

    vk = json.load(open(F("keys", "verification_key.json")))
    with open(W("vk-1e6.json"), "w") as f:
        big = dict(vk)
        big.pop("nPublic", None)
        big["IC"] = [vk["IC"][0]] * 1_000_000
        json.dump(big, f)

    # The forgery under delta = gamma: A = alpha, B = beta, C = -vk_x for public inputs 1, 2, 3.
    inputs = [1, 2, 3]
    vkx = g1_from_json(vk["IC"][0])
    for x, p in zip(inputs, vk["IC"][1:]):
        vkx = g1_add(vkx, g1_mul(g1_from_json(p), x))
    neg = None if vkx is None else (vkx[0], (-vkx[1]) % Q)
    degenerate = dict(vk, vk_delta_2=vk["vk_gamma_2"])
    json.dump(degenerate, open(W("vk-gamma-delta.json"), "w"))
    json.dump({"pi_a": vk["vk_alpha_1"], "pi_b": vk["vk_beta_2"], "pi_c": g1_to_json(neg), "protocol": "groth16", "curve": "bn128"},
              open(W("forged-proof.json"), "w"))
    json.dump([str(x) for x in inputs], open(W("forged-public.json"), "w"))
    for field in ["vk_alpha_1", "vk_gamma_2", "vk_delta_2"]:
        inf = ["0", "1", "0"] if field.endswith("_1") else [["0", "0"], ["1", "0"], ["0", "0"]]
        json.dump(dict(vk, **{field: inf}), open(W(f"vk-{field}-infinity.json"), "w"))

    # Ceremony with a deleted phase-2 file (a later one present).
    shutil.copytree(F("ceremony"), W("holed"))
    os.remove(W("holed", "phase2", "0001.zkey"))

    # A proving key with two A-query points swapped (both valid) and its checksum recomputed.
    key = bytearray(open(F("keys", "proving.key"), "rb").read())
    at = 4 + 4 + 32
    circuit_len = struct.unpack("<Q", key[at:at + 8])[0]
    at += 8 + circuit_len + 4 + 1 + 3 * 64 + 3 * 128
    ic_count = struct.unpack("<I", key[at:at + 4])[0]
    at += 4 + 64 * ic_count
    a_start = at + 4
    p5, p6 = a_start + 64 * 5, a_start + 64 * 6
    key[p5:p5 + 64], key[p6:p6 + 64] = key[p6:p6 + 64], key[p5:p5 + 64]
    key[-32:] = hashlib.sha256(bytes(key[:-32])).digest()
    open(W("swapped.key"), "wb").write(bytes(key))

    # DP records with impossible budgets, from the DP-SGD model.
    def with_metadata(name, **changes):
        b = open(F("dp.safetensors"), "rb").read()
        n = struct.unpack("<Q", b[:8])[0]
        header = json.loads(b[8:8 + n])
        header["__metadata__"].update(changes)
        text = json.dumps(header).encode()
        text += b" " * (-len(text) % 8)
        open(W(name), "wb").write(struct.pack("<Q", len(text)) + text + b[8 + n:])
        return W(name)

    noise = [B, "dp", "noise", "--method", "post-dpsgd", "--epsilon", "1", "--noise-seed", "1"]
    c = [
        ("eval: a test label >= the model's outputs", [B, "eval", "--weights", F("mlp.safetensors"), "--data", bad_labels]),
        ("train: a test label >= the model's outputs", [B, "train", "--epochs", "1", "--data", bad_labels]),
        ("dp train: a test label >= the model's outputs", [B, "dp", "train", "--epochs", "1", "--epsilon", "3", "--out", W("o1.safetensors"), "--data", bad_labels]),
        ("eval: test images 28x27 for a 784-input model", [B, "eval", "--weights", F("mlp.safetensors"), "--data", bad_shape]),
        ("train: test images 28x27 for a 784-input model", [B, "train", "--epochs", "1", "--data", bad_shape]),
        ("dp train: test images 28x27 for a 784-input model", [B, "dp", "train", "--epochs", "1", "--epsilon", "3", "--out", W("o2.safetensors"), "--data", bad_shape]),
        ("train: gzipped IDX holding 1 GiB past its declared size", [B, "train", "--epochs", "1", "--data", bomb]),
        ("circuit info: 1,000 outputs", [B, "circuit", "info", W("outputs1000.json")]),
        ("circuit info: conv 1->64, 3x3, stride 1", [B, "circuit", "info", W("conv.json")]),
        ("verify: a key with 10^6 IC points", [B, "verify", "--vk", W("vk-1e6.json"), "--proof", F("proof.json"), "--public", F("public.json")]),
        ("verify: forged proof under vk_delta_2 = vk_gamma_2", [B, "verify", "--vk", W("vk-gamma-delta.json"), "--proof", W("forged-proof.json"), "--public", W("forged-public.json")]),
        ("export solidity: vk_delta_2 = vk_gamma_2", [B, "export", "solidity", "--vk", W("vk-gamma-delta.json"), "--out", W("V.sol")]),
    ] + [
        (f"verify: {field} at infinity", [B, "verify", "--vk", W(f"vk-{field}-infinity.json"), "--proof", F("proof.json"), "--public", F("public.json")])
        for field in ["vk_alpha_1", "vk_gamma_2", "vk_delta_2"]
    ] + [
        ("ceremony verify: phase2/0001.zkey deleted", [B, "ceremony", "verify", W("holed")]),
        ("ceremony contribute: on that holed transcript", [B, "ceremony", "contribute", W("holed"), "--name", "eve", "--phase", "2"]),
        ("prove: two key points swapped, checksum recomputed", [B, "prove", "--key", W("swapped.key"), "--witness", F("square64.wtns"), "--proof", W("p.json"), "--public", W("pub.json")]),
        ("dp noise post-dpsgd: metadata epsilon -1", noise + ["--model", with_metadata("eps-1.safetensors", epsilon="-1"), "--out", W("n1.safetensors")]),
        ("dp noise post-dpsgd: metadata epsilon 0", noise + ["--model", with_metadata("eps0.safetensors", epsilon="0"), "--out", W("n2.safetensors")]),
        ("dp noise post-dpsgd: metadata delta -1", noise + ["--model", with_metadata("delta-1.safetensors", delta="-1"), "--out", W("n3.safetensors")]),
        ("dp noise post-dpsgd: metadata delta 1e308", noise + ["--model", with_metadata("delta1e308.safetensors", delta="1e308"), "--out", W("n4.safetensors")]),
        ("dp noise post-dpsgd: --clip 1e308", noise + ["--model", F("dp.safetensors"), "--clip", "1e308", "--out", W("n5.safetensors")]),
    ]
    rows, failed = [], 0
    for name, argv in c:
        r = run(argv, work)
        lines = [l for l in r.stderr.splitlines() if l.strip()]
        ok = r.code in (1, 2) and len(lines) == 1 and r.seconds < 1 and r.peak_mb < 256 and r.killed is None
        failed += not ok
        rows.append([name, r.code, f"{r.seconds:.2f} s", f"{r.peak_mb:.0f} MB", "pass" if ok else "FAIL",
                     (lines[0] if lines else "(no message)")[:150].replace("|", "/")])
    header = ["case", "exit", "time", "peak", "verdict", "error (first 150 characters)"]
    out = ["| " + " | ".join(header) + " |", "| " + " | ".join("---" for _ in header) + " |"]
    out += ["| " + " | ".join(str(x) for x in row) + " |" for row in rows]
    return "\n".join(out), failed


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default=os.path.join(REPO, ".build", "release", "verisplit"), help="the verisplit binary")
    ap.add_argument("--work", default=os.path.join(REPO, ".build-campaign"), help="fixtures, mutants and findings")
    ap.add_argument("--kinds", default="", help="comma-separated input kinds (default: all; --list)")
    ap.add_argument("--mutants", type=int, default=300, help="mutants per kind")
    ap.add_argument("--seed", default="24", help="seed of the mutations")
    ap.add_argument("--cases", action="store_true", help="run issue 24's regression cases instead")
    ap.add_argument("--save", help="write the results as JSON here")
    ap.add_argument("--merge", nargs="*", help="print the table of saved results and exit")
    ap.add_argument("--list", action="store_true", help="list the input kinds and exit")
    args = ap.parse_args()
    if args.merge:
        results = {}
        for path in args.merge:
            results.update(json.load(open(path))["results"])
        text, total = table(results)
        print(text)
        return 1 if any(total[o] for o in ["trap", "hang", "peak", "wrong valid", "other"]) else 0
    fx = Fixtures(os.path.abspath(args.bin), os.path.abspath(args.work))
    os.makedirs(fx.work, exist_ok=True)
    fx.make()
    if args.list:
        for k in kinds(fx):
            argv = k.command("MUTANT", "DIR")
            command = " ".join(["verisplit"] + [os.path.relpath(a, fx.work) if a.startswith(fx.work) else a for a in argv[1:]])
            print(f"{k.name:15} {command}" + (f"\n{'':15} ({k.note})" if k.note else ""))
        return 0
    if args.cases:
        text, failed = cases(fx)
        print(text)
        return 1 if failed else 0
    selected = set(filter(None, args.kinds.split(",")))
    known = {k.name for k in kinds(fx)}
    if selected - known:
        sys.exit(f"unknown kinds: {', '.join(sorted(selected - known))}; known: {', '.join(sorted(known))}")
    start = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    results = campaign(fx, selected, args.mutants, args.seed)
    text, total = table(results)
    print(f"campaign seed {args.seed}, {args.mutants} mutants per kind, started {start}, load {os.getloadavg()[0]:.2f}")
    print(text)
    if args.save:
        json.dump({"seed": args.seed, "started": start, "results": results}, open(args.save, "w"), indent=1)
    return 1 if any(total[o] for o in ["trap", "hang", "peak", "wrong valid", "other"]) else 0


if __name__ == "__main__":
    sys.exit(main())
