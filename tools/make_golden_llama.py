#!/usr/bin/env -S /usr/bin/python3
"""Generate tiny random Llama-family checkpoints (llama, mistral, qwen2, qwen3; Hugging Face
config.json + safetensors layouts) plus golden outputs for the pipegpt tests.

Independent reference: tools/llama_ref.py (numpy float64, from HF's modeling code; shares no
code with the TypeScript engine), cross-checked by tools/llama_torch_ref.py (torch float64,
HF-shaped). Run with Debian's python (numpy + torch):

    /usr/bin/python3 tools/make_golden_llama.py            # all cases
    /usr/bin/python3 tools/make_golden_llama.py qwen3-f16  # some cases

It (re)writes test/fixtures/ckpt/<case>/ deterministically (byte-identical on re-run). The
golden logits are computed from the weights AS STORED (after F16/BF16 rounding) and from the
config.json and tensors read back from disk. golden.json has exactly the format of
tools/make_golden.py (see tools/README.md).
"""

import json
import os
import sys
import time

import numpy as np

import llama_ref
from golden_io import (SIG_DIGITS, emit_golden, encode, greedy, read_safetensors, score,
                       self_test_bf16, write_json, write_safetensors)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT_DIR = os.path.join(ROOT, "test", "fixtures", "ckpt")
P = 64  # max_position_embeddings of every case; score window


def base_cfg(model_type, arch, C, I, L, NH, NKV, V, dtype, theta, eps, tied, **extra):
    cfg = {"architectures": [arch], "model_type": model_type, "hidden_size": C,
           "intermediate_size": I, "num_hidden_layers": L, "num_attention_heads": NH,
           "num_key_value_heads": NKV, "max_position_embeddings": P, "rms_norm_eps": eps,
           "rope_theta": theta, "rope_scaling": None, "tie_word_embeddings": tied,
           "hidden_act": "silu", "vocab_size": V,
           "torch_dtype": {"F32": "float32", "F16": "float16", "BF16": "bfloat16"}[dtype]}
    cfg.update(extra)
    return dict(sorted(cfg.items()))


# Scaled-down real shapes (same head ratios). Comments: the model each case mirrors.
CASES = [
    # SmolLM2-135M: 9 heads / 3 KV, head_dim 64 -> 4, tied, rope_theta 1e5
    dict(name="llama-smollm2", seed=4004, dtype="F32", shards=None, gen=None,
         config=base_cfg("llama", "LlamaForCausalLM", 36, 96, 3, 9, 3, 640, "F32", 100000.0, 1e-5,
                         True, attention_bias=False, mlp_bias=False, bos_token_id=0,
                         eos_token_id=0)),
    # Qwen2.5-0.5B: 14 heads / 2 KV -> 7 / 1 (MQA), head_dim 8, q/k/v biases, tied, BF16, 2 shards
    dict(name="qwen2-bf16-sharded", seed=5005, dtype="BF16", shards=2, gen=None,
         config=base_cfg("qwen2", "Qwen2ForCausalLM", 56, 160, 2, 7, 1, 512, "BF16", 1000000.0,
                         1e-6, True, use_sliding_window=False, sliding_window=P,
                         max_window_layers=2, bos_token_id=503, eos_token_id=503)),
    # Qwen3-0.6B: explicit head_dim 16 > hidden/heads = 8, q_norm/k_norm, tied, F16
    dict(name="qwen3-f16", seed=6006, dtype="F16", shards=None,
         gen={"bos_token_id": 759, "eos_token_id": [761, 759], "pad_token_id": 759},
         config=base_cfg("qwen3", "Qwen3ForCausalLM", 32, 96, 2, 4, 2, 768, "F16", 1000000.0,
                         1e-6, True, head_dim=16, attention_bias=False, use_sliding_window=False,
                         sliding_window=None, max_window_layers=2, bos_token_id=759,
                         eos_token_id=761)),
    # Llama-3.2-1B: 32 / 8 heads -> 8 / 2, head_dim 8, llama3 rope scaling, untied lm_head
    dict(name="llama32-rope-llama3", seed=7007, dtype="F32", shards=None,
         gen={"bos_token_id": 496, "eos_token_id": [497, 504, 505]},
         config=base_cfg("llama", "LlamaForCausalLM", 64, 128, 2, 8, 2, 512, "F32", 500000.0, 1e-5,
                         False, head_dim=8, attention_bias=False, mlp_bias=False,
                         rope_scaling={"factor": 32.0, "high_freq_factor": 4.0,
                                       "low_freq_factor": 1.0,
                                       "original_max_position_embeddings": 16,
                                       "rope_type": "llama3"},
                         bos_token_id=496, eos_token_id=497)),
    # llama3 rope scaling with all three frequency bands (kept / smoothed / divided), as in the
    # real Llama 3.x (head_dim 64); llama32-rope-llama3 (head_dim 8, original 16) has no kept band.
    # Also: explicit head_dim 16 > hidden/heads in a llama config, MQA (1 KV head), BF16 single file
    dict(name="llama3-rope-bands", seed=7117, dtype="BF16", shards=None, gen=None,
         config=base_cfg("llama", "LlamaForCausalLM", 32, 96, 2, 4, 1, 512, "BF16", 10000.0, 1e-5,
                         True, head_dim=16, attention_bias=False, mlp_bias=False,
                         rope_scaling={"factor": 8.0, "high_freq_factor": 4.0,
                                       "low_freq_factor": 1.0,
                                       "original_max_position_embeddings": 48,
                                       "rope_type": "llama3"},
                         bos_token_id=510, eos_token_id=511)),
    # Mistral-7B-v0.1: 32 / 8 heads -> 4 / 2, sliding_window 8 < P, untied, F16
    dict(name="mistral-window", seed=8008, dtype="F16", shards=None, gen=None,
         config=base_cfg("mistral", "MistralForCausalLM", 32, 112, 2, 4, 2, 600, "F16", 10000.0,
                         1e-5, False, sliding_window=8, bos_token_id=1, eos_token_id=2)),
    # TinyLlama / Llama-2 style: no GQA, linear rope scaling x2 (legacy "type" key), all biases
    dict(name="tinyllama-linear", seed=9009, dtype="F32", shards=None, gen=None,
         config=base_cfg("llama", "LlamaForCausalLM", 32, 88, 2, 4, 4, 500, "F32", 10000.0, 1e-5,
                         False, attention_bias=True, mlp_bias=True,
                         rope_scaling={"type": "linear", "factor": 2.0},
                         bos_token_id=1, eos_token_id=2)),
]


def make_weights(cfg, rng):
    """float32 master weights for every expected tensor, drawn in sorted-name order."""
    C = cfg["hidden_size"]
    w = {}
    for name, shape in sorted(llama_ref.expected_tensors(cfg).items()):
        if name.endswith("norm.weight"):               # RMSNorm gains near 1
            a = 1.0 + 0.1 * rng.standard_normal(shape)
        elif name == "model.embed_tokens.weight":
            a = 0.4 * rng.standard_normal(shape)
        elif name == "lm_head.weight":
            a = 2.0 / np.sqrt(C) * rng.standard_normal(shape)
        elif name.endswith(".bias"):
            a = 0.2 * rng.standard_normal(shape)
        else:                                           # nn.Linear [out, in]
            a = 1.0 / np.sqrt(shape[1]) * rng.standard_normal(shape)
        w[name] = a.astype(np.float32)
    return w


def write_weights(d, case, tensors):
    """tensors: list of (name, dtype, shape, raw). Returns the safetensors file names."""
    if case["shards"] is None:
        write_safetensors(os.path.join(d, "model.safetensors"), tensors)
        return ["model.safetensors"]
    assert case["shards"] == 2
    fns = ["model-%05d-of-00002.safetensors" % (j + 1) for j in range(2)]
    first = [t for t in tensors if t[0] == "model.embed_tokens.weight" or t[0].startswith("model.layers.0.")]
    groups = [first, [t for t in tensors if t not in first]]
    weight_map, total = {}, 0
    for fn, grp in zip(fns, groups):
        write_safetensors(os.path.join(d, fn), grp)
        for t in grp:
            weight_map[t[0]] = fn
            total += len(t[3])
    write_json(os.path.join(d, "model.safetensors.index.json"),
               {"metadata": {"total_size": total}, "weight_map": dict(sorted(weight_map.items()))})
    return fns


def read_back(d, files, case):
    """Weights and config.json as the engine will see them (independent reader)."""
    cfg = json.load(open(os.path.join(d, "config.json")))
    W = {}
    for fn in files:
        for k, (dt, shape, arr) in read_safetensors(os.path.join(d, fn)).items():
            assert k not in W, "duplicate tensor " + k
            assert dt == case["dtype"], k
            W[k] = arr
    if case["shards"] is not None:
        idx = json.load(open(os.path.join(d, "model.safetensors.index.json")))
        assert set(idx["weight_map"]) == set(W)
    exp = llama_ref.expected_tensors(cfg)
    assert set(W) == set(exp), sorted(set(W) ^ set(exp))
    assert all(tuple(W[k].shape) == s for k, s in exp.items())
    return cfg, W


def rel(a, b):
    return float(np.abs(a - b).max() / np.abs(b).max())


def build_case(case, torch_check):
    name, dtype, cfg = case["name"], case["dtype"], case["config"]
    V = cfg["vocab_size"]
    d = os.path.join(OUT_DIR, name)
    os.makedirs(d, exist_ok=True)
    for fn in os.listdir(d):  # remove stale outputs of this generator (tokenizer*.json: make_fixture_tokenizer.py's)
        if fn.endswith(".safetensors") or (fn.endswith(".json") and not fn.startswith("tokenizer")):
            os.remove(os.path.join(d, fn))
    rng = np.random.RandomState(case["seed"])
    master = make_weights(cfg, rng)
    tensors, W_stored = [], {}
    for k, a in master.items():
        raw, stored = encode(a, dtype)
        tensors.append((k, dtype, a.shape, raw))
        W_stored[k] = stored
    files = write_weights(d, case, tensors)
    write_json(os.path.join(d, "config.json"), cfg)
    if case["gen"] is not None:
        write_json(os.path.join(d, "generation_config.json"), case["gen"])
    cfg_back, W = read_back(d, files, case)
    assert cfg_back == cfg
    for k in W:
        assert np.array_equal(W[k], W_stored[k]), "round-trip mismatch " + k
    fwd = lambda ids: llama_ref.forward(W, cfg_back, ids)  # noqa: E731

    info = {}
    prompt = [int(t) for t in rng.randint(0, V, size=16)]
    logits = fwd(prompt)
    info["max_abs_logit"] = float(np.abs(logits).max())
    info["logit_std"] = float(logits.std())
    if dtype != "F32":
        W_master = {k: v.astype(np.float64) for k, v in master.items()}
        r = rel(llama_ref.forward(W_master, cfg, prompt), logits)
        # rounding must be visible well above the tests' 1e-4 tolerance (reference = stored weights)
        assert r > 1e-3, "%s rounding has no visible effect (%g)" % (dtype, r)
        info["rel_diff_vs_unrounded_f32"] = r
    full = [int(t) for t in np.random.RandomState(case["seed"] + 1).randint(0, V, size=P)]
    full_logits = fwd(full)
    info.update(feature_checks(cfg, W, full, full_logits))
    if torch_check:
        import llama_torch_ref as tc
        info.update(tc.compare(W, cfg, [prompt, full], [logits, full_logits]))

    max_tokens = 24
    for attempt in range(200):
        gp = [int(t) for t in rng.randint(0, V, size=8)]
        gids, margin = greedy(fwd, gp, max_tokens)
        if margin >= 1e-3:
            break
    else:
        raise RuntimeError("no greedy prompt with margin >= 1e-3")
    info["greedy_attempts"], info["min_margin"] = attempt + 1, margin

    N, window, stride = int(round(2.5 * P)), P, P // 2
    stoks = [int(t) for t in rng.randint(0, V, size=N)]
    lps = score(fwd, stoks, window, stride)
    mean_nll = -sum(lps) / len(lps)
    info["mean_nll"] = mean_nll

    c = cfg
    emit_golden(os.path.join(d, "golden.json"), "tools/make_golden_llama.py",
                ("Random tiny %s (%s, %s; %d layers, %d heads, %d KV heads, head_dim %d). float64 "
                 "numpy reference (tools/llama_ref.py) computed from the weights as stored (after "
                 "%s rounding); floats rounded to %d significant digits. logits[t] are the "
                 "next-token logits after prompt_ids[0..t]. greedy: argmax decoding recomputing "
                 "the full sequence each step. score: sliding-window natural-log token log-probs "
                 "(window, stride)." % (
                     c["architectures"][0], name, dtype, c["num_hidden_layers"],
                     c["num_attention_heads"], c["num_key_value_heads"], llama_ref.dims(c)[3],
                     dtype, SIG_DIGITS)),
                name, prompt, logits, (gp, max_tokens, gids, margin),
                (stoks, window, stride, lps, mean_nll), V, N)
    return info


def feature_checks(cfg, W, full, full_logits):
    """Each case's distinguishing feature must visibly change the logits (> 1e-3 relative),
    so an engine that ignores it fails the 1e-4 tests."""
    out = {}

    def variant(**changes):
        return rel(llama_ref.forward(W, dict(cfg, **changes), full), full_logits)

    if cfg.get("rope_scaling"):
        out["rel_effect_rope_scaling"] = variant(rope_scaling=None)
        if cfg["rope_scaling"].get("rope_type") == "llama3":
            out["llama3_bands"] = llama_ref.llama3_bands(cfg)
    if cfg["model_type"] == "mistral":
        w = cfg["sliding_window"]
        no_win = llama_ref.forward(W, dict(cfg, sliding_window=None), full)
        assert np.array_equal(no_win[:w], full_logits[:w]), "window must not matter before it fills"
        out["rel_effect_sliding_window"] = rel(no_win, full_logits)
    out["rel_effect_rope_theta_x2"] = variant(rope_theta=2 * cfg["rope_theta"])
    out["rel_effect_rms_norm_eps_x1e4"] = variant(rms_norm_eps=1e4 * cfg["rms_norm_eps"])
    for k, v in out.items():
        assert not isinstance(v, float) or v > 1e-3, (k, v)
    return out


def main(argv):
    self_test_bf16()
    names = argv[1:] or [c["name"] for c in CASES]
    unknown = set(names) - {c["name"] for c in CASES}
    assert not unknown, "unknown case(s) %s" % sorted(unknown)
    try:
        import torch  # noqa: F401
        torch_check = True
    except ImportError:
        print("WARNING: torch not importable; skipping the torch cross-check")
        torch_check = False
    total = 0
    for case in CASES:
        if case["name"] not in names:
            continue
        t0 = time.time()
        info = build_case(case, torch_check)
        d = os.path.join(OUT_DIR, case["name"])
        print("%s: (%.1f s)" % (case["name"], time.time() - t0))
        for k, v in info.items():
            print("  %-30s %s" % (k, v))
        for fn in sorted(os.listdir(d)):
            sz = os.path.getsize(os.path.join(d, fn))
            total += sz
            print("  %-40s %8d bytes" % (fn, sz))
    print("total fixture bytes: %d" % total)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
