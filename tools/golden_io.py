"""Shared helpers for the independent numpy references (tools/make_golden.py,
tools/make_golden_llama.py): storage dtype rounding, a hand-written safetensors
writer/reader, greedy/sliding-window scoring drivers and the golden.json writer.
Shares no code with the TypeScript engine. numpy only.
"""

import json
import struct

import numpy as np

# Significant digits used for floats in golden.json. 12 digits is far below the
# 1e-4 test tolerance and makes the files robust to last-bit BLAS differences.
SIG_DIGITS = 12

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
# decoding / scoring drivers (model-agnostic: fwd(ids) -> logits [T, V])


def log_softmax(v):
    m = v.max()
    return v - m - np.log(np.exp(v - m).sum())


def greedy(fwd, prompt, max_tokens):
    """fwd(ids) -> logits [T, V] (float64). Argmax decoding recomputing the full sequence."""
    seq = list(prompt)
    out, margins = [], []
    for _ in range(max_tokens):
        last = fwd(seq)[-1]
        order = np.argsort(-last, kind="stable")
        margins.append(float(last[order[0]] - last[order[1]]))
        nxt = int(order[0])
        out.append(nxt)
        seq.append(nxt)
    return out, min(margins)


def score(fwd, toks, window, stride):
    """Sliding-window natural-log token log-probs: lp[i-1] = log p(toks[i] | window)."""
    N = len(toks)
    lp = [None] * (N - 1)

    def run(s, e, first):
        logits = fwd(toks[s:e])
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
# golden.json output


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

def self_test_bf16():
    # round-to-nearest-even on exact halfway cases and ordinary values
    a = np.array([1.0, 1.0 + 2 ** -8, 1.0 + 3 * 2 ** -8, -2.5, 3.14159, 1e-3], dtype=np.float32)
    b = bf16_bits_to_f32(f32_to_bf16_bits(a))
    assert b[0] == 1.0 and b[1] == 1.0 and b[2] == 1.0 + 2 ** -6 and b[3] == -2.5
    assert np.all(np.abs(b - a) <= np.abs(a) * 2 ** -8)


def emit_golden(path, generator, note, name, prompt, logits, greedy_run, score_run, V, N):
    """Writes golden.json in the one format the tests read (test/helpers/golden.ts) and checks it
    parses back. greedy_run = (prompt_ids, max_tokens, ids, min_margin); score_run = (ids, window,
    stride, token_logprobs, mean_nll)."""
    gp, max_tokens, gids, margin = greedy_run
    stoks, window, stride, lps, mean_nll = score_run
    golden = {
        "magic": "pipegpt-golden",
        "version": 1,
        "generator": generator,
        "note": note,
        "case": name,
        "prompt_ids": prompt,
        "logits": [[rnd(v) for v in row] for row in logits],
        "greedy": {"prompt_ids": gp, "max_tokens": max_tokens, "ids": gids,
                   "min_margin": rnd(margin)},
        "score": {"ids": stoks, "window": window, "stride": stride,
                  "token_logprobs": [rnd(v) for v in lps],
                  "mean_nll": rnd(mean_nll), "n_scored": len(lps)},
    }
    write_golden(path, golden)
    # sanity: the written golden parses back
    g2 = json.load(open(path))
    assert len(g2["logits"]) == 16 and all(len(r) == V for r in g2["logits"])
    assert len(g2["score"]["token_logprobs"]) == N - 1
