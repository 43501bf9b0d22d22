"""Second, independent float64 implementation of the Llama family in torch, transcribed in the
shape of Hugging Face's modeling code (LlamaRMSNorm, LlamaRotaryEmbedding + rotate_half +
apply_rotary_pos_emb, repeat_kv, eager_attention_forward with an additive finfo.min mask,
LlamaMLP, Qwen3 q_norm/k_norm, _compute_llama3_parameters). It shares no code with
tools/llama_ref.py (numpy: per-head loops, half-split rotation, boolean masks) and is used
only by tools/make_golden_llama.py's self-check. transformers is not installed, hence the
transcription. Differences from HF kept on purpose: cos/sin in float64 (HF: float32).
"""

import math

import torch
import torch.nn.functional as F


def _default_inv_freq(config, dim, dtype):
    base = config.get("rope_theta", 10000.0)
    return 1.0 / (base ** (torch.arange(0, dim, 2, dtype=torch.int64).to(dtype) / dim))


def _llama3_inv_freq(config, dim, dtype):
    inv_freq = _default_inv_freq(config, dim, dtype)
    rs = config["rope_scaling"]
    factor = rs["factor"]
    low_freq_factor = rs["low_freq_factor"]
    high_freq_factor = rs["high_freq_factor"]
    old_context_len = rs["original_max_position_embeddings"]
    low_freq_wavelen = old_context_len / low_freq_factor
    high_freq_wavelen = old_context_len / high_freq_factor
    wavelen = 2 * math.pi / inv_freq
    inv_freq_llama = torch.where(wavelen > low_freq_wavelen, inv_freq / factor, inv_freq)
    smooth_factor = (old_context_len / wavelen - low_freq_factor) / (high_freq_factor - low_freq_factor)
    smoothed_inv_freq = (1 - smooth_factor) * inv_freq_llama / factor + smooth_factor * inv_freq_llama
    is_medium_freq = ~(wavelen < high_freq_wavelen) * ~(wavelen > low_freq_wavelen)
    return torch.where(is_medium_freq, smoothed_inv_freq, inv_freq_llama)


def rotary_inv_freq(config, dim, dtype=torch.float64):
    rs = config.get("rope_scaling")
    rope_type = "default" if rs is None else rs.get("rope_type", rs.get("type"))
    if rope_type == "default":
        return _default_inv_freq(config, dim, dtype)
    if rope_type == "linear":
        return _default_inv_freq(config, dim, dtype) / rs["factor"]
    if rope_type == "llama3":
        return _llama3_inv_freq(config, dim, dtype)
    raise ValueError(rope_type)


def rms_norm(hidden_states, weight, eps):
    variance = hidden_states.pow(2).mean(-1, keepdim=True)
    hidden_states = hidden_states * torch.rsqrt(variance + eps)
    return weight * hidden_states


def rotate_half(x):
    x1 = x[..., : x.shape[-1] // 2]
    x2 = x[..., x.shape[-1] // 2:]
    return torch.cat((-x2, x1), dim=-1)


def apply_rotary_pos_emb(q, k, cos, sin):
    cos, sin = cos.unsqueeze(1), sin.unsqueeze(1)
    return (q * cos) + (rotate_half(q) * sin), (k * cos) + (rotate_half(k) * sin)


def repeat_kv(hidden_states, n_rep):
    batch, num_key_value_heads, slen, head_dim = hidden_states.shape
    if n_rep == 1:
        return hidden_states
    hidden_states = hidden_states[:, :, None, :, :].expand(batch, num_key_value_heads, n_rep, slen, head_dim)
    return hidden_states.reshape(batch, num_key_value_heads * n_rep, slen, head_dim)


def causal_mask(config, seq_len, dtype):
    q_idx = torch.arange(seq_len)[:, None]
    kv_idx = torch.arange(seq_len)[None, :]
    keep = kv_idx <= q_idx
    sw = config.get("sliding_window") if config["model_type"] == "mistral" else None
    if config["model_type"] in ("qwen2", "qwen3") and config.get("use_sliding_window"):
        raise NotImplementedError("use_sliding_window")
    if sw is not None:
        keep = keep & (kv_idx > q_idx - sw)
    mask = torch.zeros(seq_len, seq_len, dtype=dtype)
    return mask.masked_fill(~keep, torch.finfo(dtype).min)[None, None]


def forward(sd, config, input_ids, dtype=torch.float64):
    """sd: HF state dict (torch tensors of `dtype`). Returns logits [T, V] of `dtype`.
    dtype float32 behaves like HF with a float32 model (rotary frequencies, cos/sin, softmax
    in float32); used to show what a float32 engine's error against the golden looks like."""
    mt = config["model_type"]
    hidden = config["hidden_size"]
    n_heads = config["num_attention_heads"]
    n_kv = config.get("num_key_value_heads") or n_heads
    head_dim = config.get("head_dim") or hidden // n_heads
    eps = config["rms_norm_eps"]
    input_ids = torch.as_tensor(input_ids, dtype=torch.long)[None]
    bsz, q_len = input_ids.shape
    position_ids = torch.arange(q_len)[None]

    inv_freq = rotary_inv_freq(config, head_dim, dtype)
    freqs = (inv_freq[None, :, None] @ position_ids[:, None, :].to(dtype)).transpose(1, 2)
    emb = torch.cat((freqs, freqs), dim=-1)
    cos, sin = emb.cos(), emb.sin()
    mask = causal_mask(config, q_len, dtype)

    def lin(x, name):
        return F.linear(x, sd[name + ".weight"], sd.get(name + ".bias"))

    h = F.embedding(input_ids, sd["model.embed_tokens.weight"])
    for i in range(config["num_hidden_layers"]):
        p = "model.layers.%d." % i
        residual = h
        h = rms_norm(h, sd[p + "input_layernorm.weight"], eps)
        hidden_shape = (bsz, q_len, -1, head_dim)
        q = lin(h, p + "self_attn.q_proj").view(hidden_shape)
        k = lin(h, p + "self_attn.k_proj").view(hidden_shape)
        v = lin(h, p + "self_attn.v_proj").view(hidden_shape).transpose(1, 2)
        if mt == "qwen3":
            q = rms_norm(q, sd[p + "self_attn.q_norm.weight"], eps)
            k = rms_norm(k, sd[p + "self_attn.k_norm.weight"], eps)
        q, k = apply_rotary_pos_emb(q.transpose(1, 2), k.transpose(1, 2), cos, sin)
        k = repeat_kv(k, n_heads // n_kv)
        v = repeat_kv(v, n_heads // n_kv)
        attn_weights = torch.matmul(q, k.transpose(2, 3)) * head_dim ** -0.5 + mask
        attn_weights = F.softmax(attn_weights, dim=-1, dtype=dtype)
        attn_output = torch.matmul(attn_weights, v).transpose(1, 2).reshape(bsz, q_len, -1)
        h = residual + lin(attn_output, p + "self_attn.o_proj")
        residual = h
        h = rms_norm(h, sd[p + "post_attention_layernorm.weight"], eps)
        h = lin(F.silu(lin(h, p + "mlp.gate_proj")) * lin(h, p + "mlp.up_proj"), p + "mlp.down_proj")
        h = residual + h
    h = rms_norm(h, sd["model.norm.weight"], eps)
    head = sd.get("lm_head.weight")
    if config.get("tie_word_embeddings", False):
        assert head is None
        head = sd["model.embed_tokens.weight"]
    return F.linear(h, head)[0]


def compare(W, config, seqs, ref_logits, tol=1e-10, tol32=2e-5):
    """Self-check used by make_golden_llama.py: this port vs the numpy reference's logits
    (max|diff| / max|ref| <= tol on each sequence) and rotary frequencies; and the same port
    run in float32 (HF-like) against the reference (<= tol32, well inside the tests' 1e-4)."""
    import numpy as np
    import llama_ref
    torch.set_num_threads(1)
    sd = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in W.items()}
    sd32 = {k: v.to(torch.float32) for k, v in sd.items()}
    out = {}
    head_dim = config.get("head_dim") or config["hidden_size"] // config["num_attention_heads"]
    f_t = rotary_inv_freq(config, head_dim).numpy()
    f_n = llama_ref.inv_freq(config)
    out["torch_inv_freq_rel"] = float(np.abs(f_t - f_n).max() / np.abs(f_n).max())
    assert out["torch_inv_freq_rel"] <= 1e-14, out
    worst, worst32 = 0.0, 0.0
    for ids, ref in zip(seqs, ref_logits):
        got = forward(sd, config, ids).numpy()
        worst = max(worst, float(np.abs(got - ref).max() / np.abs(ref).max()))
        got32 = forward(sd32, config, ids, torch.float32).numpy().astype(np.float64)
        worst32 = max(worst32, float(np.abs(got32 - ref).max() / np.abs(ref).max()))
    out["torch_logits_rel"] = worst
    out["torch_float32_logits_rel"] = worst32
    assert worst <= tol, "torch cross-check failed: %g > %g" % (worst, tol)
    assert worst32 <= tol32, "float32 torch port too far from the reference: %g" % worst32
    return out
