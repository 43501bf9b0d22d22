"""Independent numpy float64 forward pass for the Llama family, written from Hugging Face's
modeling code (LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM, Qwen3ForCausalLM).
Shares no code with the TypeScript engine (nor with tools/llama_torch_ref.py, the cross-check).

The model is driven by the HF config.json dict and HF tensor names exactly as stored:
    W = {"model.embed_tokens.weight": float64 [V, C], ...}   (nn.Linear layout [out, in])
    logits = forward(W, config, ids)                          -> float64 [T, V]

Semantics (per HF):
  * RMSNorm: x / sqrt(mean(x^2) + rms_norm_eps) * weight.
  * RoPE, rotate_half layout: for each head, pairs (d, d + D/2) rotate by angle
    pos * inv_freq[d], inv_freq[d] = rope_theta^(-2d/D), D = head_dim. rope_scaling
    "linear" divides inv_freq by factor; "llama3" is HF _compute_llama3_parameters.
    Angles are exact float64 here (HF computes cos/sin in float32 even for a float64 model;
    that difference is ~1e-6 and far below the tests' 1e-4 tolerance).
  * Grouped-query attention: query head h reads KV head h // (NH / NKV) (HF repeat_kv).
  * Scale head_dim^-0.5; causal; Mistral sliding_window W: query i sees keys i-W < j <= i.
  * Qwen3: RMSNorm over head_dim on every q and k head (q_norm / k_norm) before RoPE.
  * MLP: down(silu(gate(x)) * up(x)). Biases: llama attention_bias (q,k,v,o), mlp_bias
    (gate, up, down); qwen2 q,k,v always (no o); qwen3 attention_bias (q,k,v,o); mistral none.
  * Head: lm_head.weight, or model.embed_tokens.weight when tie_word_embeddings.
"""

import math

import numpy as np

FAMILIES = ("llama", "mistral", "qwen2", "qwen3")


def dims(cfg):
    C, NH = cfg["hidden_size"], cfg["num_attention_heads"]
    NKV = cfg.get("num_key_value_heads") or NH
    D = cfg.get("head_dim") or C // NH
    assert NH % NKV == 0
    return C, NH, NKV, D


def has_bias(cfg):
    """(q/k/v bias, o bias, mlp bias) as HF's modules construct them."""
    mt = cfg["model_type"]
    if mt == "llama":
        ab, mb = bool(cfg.get("attention_bias", False)), bool(cfg.get("mlp_bias", False))
        return ab, ab, mb
    if mt == "mistral":
        return False, False, False
    if mt == "qwen2":
        return True, False, False
    if mt == "qwen3":
        ab = bool(cfg.get("attention_bias", False))
        return ab, ab, False
    raise ValueError("unsupported model_type %r" % mt)


def sliding_window(cfg):
    mt = cfg["model_type"]
    if mt == "mistral":
        return cfg.get("sliding_window")
    if mt in ("qwen2", "qwen3"):
        # HF ignores sliding_window unless use_sliding_window; not needed by the fixtures
        assert not cfg.get("use_sliding_window", False), "use_sliding_window not modelled"
    return None


def tie(cfg):
    return bool(cfg.get("tie_word_embeddings", False))  # HF default for all four families


def expected_tensors(cfg):
    """name -> shape of every tensor the HF model has (and nothing else)."""
    C, NH, NKV, D = dims(cfg)
    I, V = cfg["intermediate_size"], cfg["vocab_size"]
    qkv_b, o_b, mlp_b = has_bias(cfg)
    t = {"model.embed_tokens.weight": (V, C), "model.norm.weight": (C,)}
    for i in range(cfg["num_hidden_layers"]):
        p = "model.layers.%d." % i
        for n, out, inp, b in (("q", NH * D, C, qkv_b), ("k", NKV * D, C, qkv_b),
                               ("v", NKV * D, C, qkv_b), ("o", C, NH * D, o_b)):
            t[p + "self_attn.%s_proj.weight" % n] = (out, inp)
            if b:
                t[p + "self_attn.%s_proj.bias" % n] = (out,)
        if cfg["model_type"] == "qwen3":
            t[p + "self_attn.q_norm.weight"] = (D,)
            t[p + "self_attn.k_norm.weight"] = (D,)
        for n, out, inp in (("gate", I, C), ("up", I, C), ("down", C, I)):
            t[p + "mlp.%s_proj.weight" % n] = (out, inp)
            if mlp_b:
                t[p + "mlp.%s_proj.bias" % n] = (out,)
        t[p + "input_layernorm.weight"] = (C,)
        t[p + "post_attention_layernorm.weight"] = (C,)
    if not tie(cfg):
        t["lm_head.weight"] = (V, C)
    return t


def inv_freq(cfg):
    """float64 [D/2] rotary inverse frequencies after rope_scaling."""
    _, _, _, D = dims(cfg)
    theta = float(cfg.get("rope_theta", 10000.0))
    f = np.array([theta ** (-(2.0 * d) / D) for d in range(D // 2)])
    rs = cfg.get("rope_scaling")
    if not rs:
        return f
    kind = rs.get("rope_type", rs.get("type"))
    if kind == "default":
        return f
    if kind == "linear":
        return f / float(rs["factor"])
    if kind == "llama3":
        factor, lo, hi = float(rs["factor"]), float(rs["low_freq_factor"]), float(rs["high_freq_factor"])
        old = float(rs["original_max_position_embeddings"])
        out = np.empty_like(f)
        for d, fr in enumerate(f):
            wavelen = 2.0 * math.pi / fr
            if wavelen < old / hi:            # high frequency: unchanged
                out[d] = fr
            elif wavelen > old / lo:          # low frequency: interpolated by factor
                out[d] = fr / factor
            else:                             # in between: smooth blend
                s = (old / wavelen - lo) / (hi - lo)
                out[d] = (1.0 - s) * fr / factor + s * fr
        return out
    raise ValueError("rope_scaling type %r not modelled" % kind)


def llama3_bands(cfg):
    """For reporting: 'keep' / 'smooth' / 'divide' per frequency (llama3 scaling only)."""
    rs = cfg["rope_scaling"]
    old, lo, hi = rs["original_max_position_embeddings"], rs["low_freq_factor"], rs["high_freq_factor"]
    theta, (_, _, _, D) = float(cfg["rope_theta"]), dims(cfg)
    out = []
    for d in range(D // 2):
        w = 2.0 * math.pi * theta ** ((2.0 * d) / D)
        out.append("keep" if w < old / hi else "divide" if w > old / lo else "smooth")
    return out


def rms_norm(x, w, eps):
    return x / np.sqrt((x * x).mean(axis=-1, keepdims=True) + eps) * w


def rope(x, cos, sin):
    """x [T, D] one head; rotate_half layout: halves (x1, x2) -> (x1 c - x2 s, x2 c + x1 s)."""
    h = x.shape[1] // 2
    x1, x2 = x[:, :h], x[:, h:]
    return np.concatenate([x1 * cos - x2 * sin, x2 * cos + x1 * sin], axis=1)


def linear(W, name, x):
    y = x @ W[name + ".weight"].T
    b = W.get(name + ".bias")
    return y if b is None else y + b


def silu(x):
    return x / (1.0 + np.exp(-x))


def forward(W, cfg, ids):
    ids = np.asarray(ids, dtype=np.int64)
    T = len(ids)
    assert 1 <= T <= cfg["max_position_embeddings"]
    C, NH, NKV, D = dims(cfg)
    eps = cfg["rms_norm_eps"]
    group = NH // NKV
    ang = np.arange(T, dtype=np.float64)[:, None] * inv_freq(cfg)[None, :]
    cos, sin = np.cos(ang), np.sin(ang)
    win = sliding_window(cfg)
    i_, j_ = np.arange(T)[:, None], np.arange(T)[None, :]
    allowed = j_ <= i_
    if win is not None:
        allowed &= j_ > i_ - win
    x = W["model.embed_tokens.weight"][ids]
    for layer in range(cfg["num_hidden_layers"]):
        p = "model.layers.%d." % layer
        h = rms_norm(x, W[p + "input_layernorm.weight"], eps)
        q = linear(W, p + "self_attn.q_proj", h)
        k = linear(W, p + "self_attn.k_proj", h)
        v = linear(W, p + "self_attn.v_proj", h)
        ks, vs = [], []
        for g in range(NKV):
            kg = k[:, g * D:(g + 1) * D]
            if cfg["model_type"] == "qwen3":
                kg = rms_norm(kg, W[p + "self_attn.k_norm.weight"], eps)
            ks.append(rope(kg, cos, sin))
            vs.append(v[:, g * D:(g + 1) * D])
        outs = []
        for hd in range(NH):
            qh = q[:, hd * D:(hd + 1) * D]
            if cfg["model_type"] == "qwen3":
                qh = rms_norm(qh, W[p + "self_attn.q_norm.weight"], eps)
            qh = rope(qh, cos, sin)
            s = (qh @ ks[hd // group].T) / math.sqrt(D)
            s = np.where(allowed, s, -np.inf)
            s = np.exp(s - s.max(axis=1, keepdims=True))
            outs.append((s / s.sum(axis=1, keepdims=True)) @ vs[hd // group])
        x = x + linear(W, p + "self_attn.o_proj", np.concatenate(outs, axis=1))
        h = rms_norm(x, W[p + "post_attention_layernorm.weight"], eps)
        m = silu(linear(W, p + "mlp.gate_proj", h)) * linear(W, p + "mlp.up_proj", h)
        x = x + linear(W, p + "mlp.down_proj", m)
    x = rms_norm(x, W["model.norm.weight"], eps)
    head = W["model.embed_tokens.weight"] if tie(cfg) else W["lm_head.weight"]
    return x @ head.T
