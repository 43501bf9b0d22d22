#!/usr/bin/env -S /usr/bin/python3
"""Generate tiny random GPT-2 checkpoints (Hugging Face layouts) plus golden outputs.

This is an INDEPENDENT numpy-only reference for the pipegpt TypeScript engine:
it shares no code with it. Run it with Debian's python (which has numpy):

    /usr/bin/python3 tools/make_golden.py

It (re)writes test/fixtures/ckpt/{f32,f16-prefix,bf16-sharded}/ deterministically
(re-running gives byte-identical files). Needs numpy only; safetensors files are
written and read back by hand (tools/golden_io.py).

Reference semantics: GPT-2 (picoGPT style), computed in float64 from the weights
AS STORED (i.e. after rounding to F16 / BF16).
"""

import json
import os
import sys

import numpy as np

from golden_io import (SIG_DIGITS, emit_golden, encode, greedy, read_safetensors, score,
                       self_test_bf16, write_json, write_safetensors)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT_DIR = os.path.join(ROOT, "test", "fixtures", "ckpt")

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
        gids, margin = greedy(lambda s: forward(W, cfg, s), gp, max_tokens)
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
    lps = score(lambda s: forward(W, cfg, s), stoks, window, stride)
    mean_nll = -sum(lps) / len(lps)

    emit_golden(os.path.join(d, "golden.json"), "tools/make_golden.py",
                ("Random tiny GPT-2 (%s, %s). float64 numpy reference computed from the weights "
                 "as stored (after %s rounding); floats rounded to %d significant digits. "
                 "logits[t] are the next-token logits after prompt_ids[0..t]. greedy: argmax "
                 "decoding recomputing the full sequence each step. score: sliding-window "
                 "natural-log token log-probs (window, stride)." % (
                     name, dtype, dtype, SIG_DIGITS)),
                name, prompt, logits, (gp, max_tokens, gids, margin),
                (stoks, window, stride, lps, mean_nll), V, N)
    info["mean_nll"] = mean_nll
    return info


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
