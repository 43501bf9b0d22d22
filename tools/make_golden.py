#!/usr/bin/env -S /usr/bin/python3
"""Generate tiny random GPT-2 checkpoints (Hugging Face layouts) plus golden outputs.

This is an INDEPENDENT numpy-only reference for the pipegpt TypeScript engine:
it shares no code with it. Run it with Debian's python (which has numpy):

    /usr/bin/python3 tools/make_golden.py

It (re)writes test/fixtures/ckpt/{f32,f16-prefix,bf16-sharded}/ deterministically
(re-running gives byte-identical files). Needs numpy only; safetensors files are
written and read back by hand.

Reference semantics: GPT-2 (picoGPT style), computed in float64 from the weights
AS STORED (i.e. after rounding to F16 / BF16).
"""

import json
import os
import struct
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT_DIR = os.path.join(ROOT, "test", "fixtures", "ckpt")

# Significant digits used for floats in golden.json. 12 digits is far below the
# 1e-4 test tolerance and makes the files robust to last-bit BLAS differences.
SIG_DIGITS = 12

CASES = [
    dict(name="f32", seed=1001, dtype="F32", prefix="", legacy=False, lm_head=False,
         n_layer=2, n_head=2, n_embd=32, vocab_size=1000, n_positions=64, n_inner=None,
         eps=1e-5, shards=None),
    dict(name="f16-prefix", seed=2002, dtype="F16", prefix="transformer.", legacy=True, lm_head=True,
         n_layer=3, n_head=4, n_embd=48, vocab_size=777, n_positions=48, n_inner=None,
         eps=1e-5, shards=None),
    dict(name="bf16-sharded", seed=3003, dtype="BF16", prefix="", legacy=False, lm_head=False,
         n_layer=2, n_head=2, n_embd=32, vocab_size=1000, n_positions=64, n_inner=96,
         eps=1e-6, shards=2),
]

# ----------------------------------------------------------------------------
# dtype conversion (storage rounding)


def f32_to_bf16_bits(a):
    """float32 array -> uint16 bf16 bits, round-to-nearest-even (no NaNs expected)."""
    u = np.ascontiguousarray(a, dtype=np.float32).view(np.uint32).astype(np.uint64)
    lsb = (u >> np.uint64(16)) & np.uint64(1)
    r = (u + np.uint64(0x7FFF) + lsb) >> np.uint64(16)
    return r.astype(np.uint16)


def bf16_bits_to_f32(bits):
    return (np.asarray(bits, dtype=np.uint16).astype(np.uint32) << np.uint32(16)).view(np.float32)


def encode(a, dtype):
    """Return (raw little-endian bytes, stored values as float64 or uint8)."""
    if dtype == "F32":
        s = np.asarray(a, dtype="<f4")
        return s.tobytes(), s.astype(np.float64)
    if dtype == "F16":
        s = np.asarray(a, dtype=np.float32).astype("<f2")  # numpy rounds to nearest even
        assert np.all(np.isfinite(s))
        return s.tobytes(), s.astype(np.float64)
    if dtype == "BF16":
        bits = f32_to_bf16_bits(a).astype("<u2")
        return bits.tobytes(), bf16_bits_to_f32(bits).astype(np.float64)
    if dtype == "U8":
        s = np.asarray(a, dtype=np.uint8)
        return s.tobytes(), s
    raise ValueError(dtype)


ITEMSIZE = {"F32": 4, "F16": 2, "BF16": 2, "U8": 1}

# ----------------------------------------------------------------------------
# safetensors writer / reader (hand-written)


def write_safetensors(path, tensors):
    """tensors: list of (name, dtype, shape, raw_bytes). Stored contiguously, sorted
    by (itemsize desc, name) like the Rust safetensors serializer, so every tensor
    starts at an offset aligned to its element size."""
    tensors = sorted(tensors, key=lambda t: (-ITEMSIZE[t[1]], t[0]))
    header = {"__metadata__": {"format": "pt"}}
    off = 0
    for name, dtype, shape, raw in tensors:
        assert len(raw) == ITEMSIZE[dtype] * int(np.prod(shape, dtype=np.int64))
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [off, off + len(raw)]}
        off += len(raw)
    hj = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hj += b" " * ((-(8 + len(hj))) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hj)))
        f.write(hj)
        for _, _, _, raw in tensors:
            f.write(raw)
    return off


def read_safetensors(path):
    """Independent small reader: returns {name: (dtype, shape, array)} with
    float arrays converted to float64 (U8 kept as uint8)."""
    with open(path, "rb") as f:
        buf = f.read()
    (n,) = struct.unpack_from("<Q", buf, 0)
    assert (8 + n) % 8 == 0, "header not padded to 8"
    header = json.loads(buf[8:8 + n].decode("utf-8"))
    data = buf[8 + n:]
    meta = header.pop("__metadata__", None)
    assert meta == {"format": "pt"}, meta
    out = {}
    spans = []
    for name, info in header.items():
        dt, shape, (b, e) = info["dtype"], info["shape"], info["data_offsets"]
        count = 1
        for d in shape:
            count *= d
        assert e - b == count * ITEMSIZE[dt], name
        raw = data[b:e]
        if dt == "F32":
            arr = np.frombuffer(raw, dtype="<f4").astype(np.float64)
        elif dt == "F16":
            arr = np.frombuffer(raw, dtype="<f2").astype(np.float64)
        elif dt == "BF16":
            u16 = np.frombuffer(raw, dtype="<u2").astype(np.uint32)
            arr = (u16 << np.uint32(16)).view(np.float32).astype(np.float64)
        elif dt == "U8":
            arr = np.frombuffer(raw, dtype=np.uint8).copy()
        else:
            raise ValueError(dt)
        out[name] = (dt, list(shape), arr.reshape(shape))
        spans.append((b, e))
    spans.sort()
    pos = 0
    for b, e in spans:
        assert b == pos, "hole or overlap in data section"
        pos = e
    assert pos == len(data), "data section size mismatch"
    return out

# ----------------------------------------------------------------------------
# random weights


def make_weights(cfg):
    """Float32 master weights, drawn in a fixed order from RandomState(seed)."""
    rng = np.random.RandomState(cfg["seed"])
    C, V, P, L = cfg["n_embd"], cfg["vocab_size"], cfg["n_positions"], cfg["n_layer"]
    I = cfg["n_inner"] if cfg["n_inner"] is not None else 4 * C

    def n(shape, std, mean=0.0):
        return (mean + std * rng.standard_normal(shape)).astype(np.float32)

    w = {}
    w["wte.weight"] = n((V, C), 0.3)
    w["wpe.weight"] = n((P, C), 0.3)
    for i in range(L):
        p = "h.%d." % i
        w[p + "ln_1.weight"] = n((C,), 0.1, 1.0)
        w[p + "ln_1.bias"] = n((C,), 0.05)
        w[p + "attn.c_attn.weight"] = n((C, 3 * C), 0.2)
        w[p + "attn.c_attn.bias"] = n((3 * C,), 0.05)
        w[p + "attn.c_proj.weight"] = n((C, C), 0.2)
        w[p + "attn.c_proj.bias"] = n((C,), 0.05)
        w[p + "ln_2.weight"] = n((C,), 0.1, 1.0)
        w[p + "ln_2.bias"] = n((C,), 0.05)
        w[p + "mlp.c_fc.weight"] = n((C, I), 0.2)
        w[p + "mlp.c_fc.bias"] = n((I,), 0.05)
        w[p + "mlp.c_proj.weight"] = n((I, C), 0.2)
        w[p + "mlp.c_proj.bias"] = n((C,), 0.05)
    w["ln_f.weight"] = n((C,), 0.1, 1.0)
    w["ln_f.bias"] = n((C,), 0.05)
    return w, rng

# ----------------------------------------------------------------------------
# reference forward pass (float64)


def layer_norm(x, g, b, eps):
    mu = x.mean(axis=-1, keepdims=True)
    var = ((x - mu) ** 2).mean(axis=-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * g + b


def gelu_new(x):
    return 0.5 * x * (1.0 + np.tanh(np.sqrt(2.0 / np.pi) * (x + 0.044715 * x ** 3)))


def softmax_rows(s):
    s = s - s.max(axis=-1, keepdims=True)
    e = np.exp(s)
    return e / e.sum(axis=-1, keepdims=True)


def forward(W, cfg, ids):
    """W: canonical names (no prefix) -> float64 arrays. Returns logits [T, V]."""
    ids = np.asarray(ids, dtype=np.int64)
    T = len(ids)
    assert 1 <= T <= cfg["n_positions"]
    C, H = cfg["n_embd"], cfg["n_head"]
    D = C // H
    eps = cfg["eps"]
    x = W["wte.weight"][ids] + W["wpe.weight"][np.arange(T)]
    causal = np.tril(np.ones((T, T), dtype=bool))
    for i in range(cfg["n_layer"]):
        p = "h.%d." % i
        h = layer_norm(x, W[p + "ln_1.weight"], W[p + "ln_1.bias"], eps)
        qkv = h @ W[p + "attn.c_attn.weight"] + W[p + "attn.c_attn.bias"]
        q, k, v = qkv[:, :C], qkv[:, C:2 * C], qkv[:, 2 * C:]
        heads = []
        for hd in range(H):
            sl = slice(hd * D, (hd + 1) * D)
            sc = (q[:, sl] @ k[:, sl].T) / np.sqrt(D)
            sc = np.where(causal, sc, -np.inf)
            heads.append(softmax_rows(sc) @ v[:, sl])
        a = np.concatenate(heads, axis=1) @ W[p + "attn.c_proj.weight"] + W[p + "attn.c_proj.bias"]
        x = x + a
        h = layer_norm(x, W[p + "ln_2.weight"], W[p + "ln_2.bias"], eps)
        m = gelu_new(h @ W[p + "mlp.c_fc.weight"] + W[p + "mlp.c_fc.bias"])
        m = m @ W[p + "mlp.c_proj.weight"] + W[p + "mlp.c_proj.bias"]
        x = x + m
    x = layer_norm(x, W["ln_f.weight"], W["ln_f.bias"], eps)
    return x @ W["wte.weight"].T


def log_softmax(v):
    m = v.max()
    return v - m - np.log(np.exp(v - m).sum())


def greedy(W, cfg, prompt, max_tokens):
    seq = list(prompt)
    out, margins = [], []
    for _ in range(max_tokens):
        last = forward(W, cfg, seq)[-1]
        order = np.argsort(-last, kind="stable")
        margins.append(float(last[order[0]] - last[order[1]]))
        nxt = int(order[0])
        out.append(nxt)
        seq.append(nxt)
    return out, min(margins)


def score(W, cfg, toks, window, stride):
    N = len(toks)
    lp = [None] * (N - 1)

    def run(s, e, first):
        logits = forward(W, cfg, toks[s:e])
        for i in range(first, e):
            lp[i - 1] = float(log_softmax(logits[i - 1 - s])[toks[i]])

    if N <= window:
        run(0, N, 1)
    else:
        s, prev_e = 0, None
        while True:
            e = min(s + window, N)
            run(s, e, 1 if prev_e is None else prev_e)
            prev_e = e
            if e == N:
                break
            s += stride
    assert all(v is not None for v in lp)
    return lp

# ----------------------------------------------------------------------------
# output helpers


def rnd(v):
    return float("%.*g" % (SIG_DIGITS, float(v)))


def dumps(v):
    return json.dumps(v, separators=(",", ":"))


def write_golden(path, g):
    lines = []
    for k, v in g.items():
        if k == "logits":
            rows = ",\n    ".join(dumps(r) for r in v)
            lines.append('  "logits": [\n    %s\n  ]' % rows)
        elif k in ("greedy", "score"):
            inner = ",\n".join("    %s: %s" % (dumps(kk), dumps(vv)) for kk, vv in v.items())
            lines.append("  %s: {\n%s\n  }" % (dumps(k), inner))
        else:
            lines.append("  %s: %s" % (dumps(k), dumps(v)))
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write("{\n" + ",\n".join(lines) + "\n}\n")


def write_json(path, obj):
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(json.dumps(obj, indent=2) + "\n")

# ----------------------------------------------------------------------------


def build_case(cfg):
    name, dtype, prefix = cfg["name"], cfg["dtype"], cfg["prefix"]
    C, V, P, L = cfg["n_embd"], cfg["vocab_size"], cfg["n_positions"], cfg["n_layer"]
    d = os.path.join(OUT_DIR, name)
    os.makedirs(d, exist_ok=True)
    for fn in os.listdir(d):  # remove stale outputs of this generator
        if fn.endswith(".safetensors") or fn.endswith(".json"):
            os.remove(os.path.join(d, fn))

    master, rng = make_weights(cfg)

    # encode: stored tensors (file name -> list), reference weights as stored (float64)
    W = {}
    tensors = []  # (full_name, dtype, shape, raw, canonical_name or None)
    for k, a in master.items():
        raw, stored = encode(a, dtype)
        W[k] = stored
        tensors.append((prefix + k, dtype, a.shape, raw, k))
    if cfg["lm_head"]:
        raw, stored = encode(master["wte.weight"], dtype)
        assert np.array_equal(stored, W["wte.weight"])
        tensors.append(("lm_head.weight", dtype, (V, C), raw, None))
    legacy_expect = {}
    if cfg["legacy"]:
        tri = np.tril(np.ones((P, P), dtype=np.uint8)).reshape(1, 1, P, P)
        for i in range(L):
            raw, _ = encode(tri, "U8")
            tensors.append((prefix + "h.%d.attn.bias" % i, "U8", (1, 1, P, P), raw, None))
            legacy_expect[prefix + "h.%d.attn.bias" % i] = tri
            raw, _ = encode(np.array(-1e4, dtype=np.float32), "F32")
            tensors.append((prefix + "h.%d.attn.masked_bias" % i, "F32", (), raw, None))
            legacy_expect[prefix + "h.%d.attn.masked_bias" % i] = np.array(-1e4)

    # write safetensors
    files = []
    if cfg["shards"] is None:
        fn = "model.safetensors"
        write_safetensors(os.path.join(d, fn), [t[:4] for t in tensors])
        files.append(fn)
    else:
        ns = cfg["shards"]
        fns = ["model-%05d-of-%05d.safetensors" % (j + 1, ns) for j in range(ns)]
        first = {"wte.weight", "wpe.weight"} | {k for k in master if k.startswith("h.0.")}
        groups = [[], []]
        for t in tensors:
            groups[0 if t[4] in first else 1].append(t)
        weight_map, total = {}, 0
        for fn, grp in zip(fns, groups):
            write_safetensors(os.path.join(d, fn), [t[:4] for t in grp])
            for t in grp:
                weight_map[t[0]] = fn
                total += len(t[3])
        write_json(os.path.join(d, "model.safetensors.index.json"),
                   {"metadata": {"total_size": total},
                    "weight_map": dict(sorted(weight_map.items()))})
        files.extend(fns)

    # self-check: read everything back with the independent reader
    back = {}
    for fn in files:
        for k, v in read_safetensors(os.path.join(d, fn)).items():
            assert k not in back, "duplicate tensor " + k
            back[k] = v
    assert set(back) == {t[0] for t in tensors}, "tensor set mismatch"
    for full, dt, shape, raw, canon in tensors:
        bdt, bshape, arr = back[full]
        assert bdt == dt and bshape == list(shape), full
        if canon is not None:
            assert np.array_equal(arr, W[canon]), "round-trip mismatch " + full
        elif full == "lm_head.weight":
            assert np.array_equal(arr, W["wte.weight"])
        else:
            assert np.array_equal(arr, legacy_expect[full]), full
    if cfg["shards"] is not None:
        idx = json.load(open(os.path.join(d, "model.safetensors.index.json")))
        for k, fn in idx["weight_map"].items():
            assert k in read_safetensors(os.path.join(d, fn))
    W_back = {k: back[prefix + k][2] for k in master}

    # config.json
    write_json(os.path.join(d, "config.json"), {
        "architectures": ["GPT2LMHeadModel"],
        "model_type": "gpt2",
        "n_layer": L,
        "n_head": cfg["n_head"],
        "n_embd": C,
        "n_positions": P,
        "n_ctx": P,
        "vocab_size": V,
        "n_inner": cfg["n_inner"],
        "activation_function": "gelu_new",
        "layer_norm_epsilon": cfg["eps"],
        "tie_word_embeddings": True,
        "bos_token_id": V - 1,
        "eos_token_id": V - 1,
    })

    # golden: logits on 16 random ids (RNG continues after the weights)
    prompt = [int(t) for t in rng.randint(0, V, size=16)]
    logits = forward(W, cfg, prompt)
    assert np.array_equal(logits, forward(W_back, cfg, prompt)), "logits differ from file weights"
    info = {"max_abs_logit": float(np.abs(logits).max()),
            "logit_std": float(logits.std())}
    if dtype != "F32":
        W_master = {k: v.astype(np.float64) for k, v in master.items()}
        unrounded = forward(W_master, cfg, prompt)
        rel = np.abs(unrounded - logits).max() / np.abs(logits).max()
        # the rounding must be visible well above the 1e-4 test tolerance,
        # proving the golden logits come from the rounded (stored) weights
        assert rel > 1e-3, "rounding has no visible effect (%g)" % rel
        info["rel_diff_vs_unrounded_f32"] = float(rel)

    # greedy: 8-id prompt + 24 tokens, require a robust argmax margin
    max_tokens = 24
    assert 8 + max_tokens <= P
    for attempt in range(200):
        gp = [int(t) for t in rng.randint(0, V, size=8)]
        gids, margin = greedy(W, cfg, gp, max_tokens)
        if margin >= 1e-3:
            break
    else:
        raise RuntimeError("no greedy prompt with margin >= 1e-3")
    info["greedy_attempts"] = attempt + 1
    info["min_margin"] = margin

    # score: N = 2.5*P tokens, window P, stride P/2
    N = int(round(2.5 * P))
    window, stride = P, P // 2
    stoks = [int(t) for t in rng.randint(0, V, size=N)]
    lps = score(W, cfg, stoks, window, stride)
    mean_nll = -sum(lps) / len(lps)

    golden = {
        "magic": "pipegpt-golden",
        "version": 1,
        "generator": "tools/make_golden.py",
        "note": ("Random tiny GPT-2 (%s, %s). float64 numpy reference computed from the weights "
                 "as stored (after %s rounding); floats rounded to %d significant digits. "
                 "logits[t] are the next-token logits after prompt_ids[0..t]. greedy: argmax "
                 "decoding recomputing the full sequence each step. score: sliding-window "
                 "natural-log token log-probs (window, stride)." % (
                     name, dtype, dtype, SIG_DIGITS)),
        "case": name,
        "prompt_ids": prompt,
        "logits": [[rnd(v) for v in row] for row in logits],
        "greedy": {"prompt_ids": gp, "max_tokens": max_tokens, "ids": gids,
                   "min_margin": rnd(margin)},
        "score": {"ids": stoks, "window": window, "stride": stride,
                  "token_logprobs": [rnd(v) for v in lps],
                  "mean_nll": rnd(mean_nll), "n_scored": len(lps)},
    }
    write_golden(os.path.join(d, "golden.json"), golden)
    # sanity: the written golden parses back
    g2 = json.load(open(os.path.join(d, "golden.json")))
    assert len(g2["logits"]) == 16 and all(len(r) == V for r in g2["logits"])
    assert len(g2["score"]["token_logprobs"]) == N - 1
    info["mean_nll"] = mean_nll
    return info


def self_test_bf16():
    # round-to-nearest-even on exact halfway cases and ordinary values
    a = np.array([1.0, 1.0 + 2 ** -8, 1.0 + 3 * 2 ** -8, -2.5, 3.14159, 1e-3], dtype=np.float32)
    b = bf16_bits_to_f32(f32_to_bf16_bits(a))
    assert b[0] == 1.0 and b[1] == 1.0 and b[2] == 1.0 + 2 ** -6 and b[3] == -2.5
    assert np.all(np.abs(b - a) <= np.abs(a) * 2 ** -8)


def main():
    self_test_bf16()
    for cfg in CASES:
        info = build_case(cfg)
        d = os.path.join(OUT_DIR, cfg["name"])
        print("%s:" % cfg["name"])
        for k, v in info.items():
            print("  %-26s %s" % (k, v))
        for fn in sorted(os.listdir(d)):
            print("  %-40s %8d bytes" % (fn, os.path.getsize(os.path.join(d, fn))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
