#!/usr/bin/env python3
"""Train the tiny demo GPT-2 "kjv-gpt2-tiny" on the King James Bible.

Requirements (Debian):  apt-get install python3-torch bible-kjv nodejs
(libopenblas0-pthread strongly recommended: Debian torch uses libblas.so.3,
and the reference BLAS is several times slower),
plus the npm package `tiktoken` in this repository's node_modules (used by
tools/tokenize_corpus.mjs for the GPT-2 BPE). Nothing else: torch + numpy.

Usage (from the repository root; use Debian's python, which has torch):

    /usr/bin/python3 tools/train_demo.py            # 2400 steps, ~1 hour on 2 cores

The schedule is counted in optimizer steps, not wall-clock time, so the same
command gives the same weights on a loaded or an idle machine (only slower).

Writes, into --out (default models/kjv-gpt2-tiny):
    config.json        Hugging Face GPT2 config
    model.safetensors  F16 weights, HF GPT2Model names (no prefix, lm_head tied)
    val-ids.json       every token id of the validation split (`pipegpt score -i` takes it)
    val-excerpt.json   first 1024 token ids of the validation split
    training.json      data split, hyper-parameters, validation scores, samples
    README.md          short model card

Sections: corpus, tokenize, model, train, evaluate, export.

Training trick: only ~9.7k of the 50257 GPT-2 ids occur in the training text.
Every never-seen id's embedding row is tied to one shared learned vector u,
so the K unseen ids act as a single softmax class with logit x.u + log K.
The softmax is still exact over the full vocabulary, but ~5x narrower.
On export those rows get u (+ tiny seeded noise), giving an ordinary GPT-2.

All reported validation numbers are computed AFTER the F16 round trip: the
F16 file is read back, converted to float32 and evaluated with a plain
full-vocabulary GPT-2, using the sliding-window scheme of `pipegpt score`
(windows of n_positions=256, stride 128, each token after the first scored
once).
"""

import argparse
import json
import math
import os
import re
import subprocess
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOKENIZER = os.path.join(REPO, "tools", "tokenize_corpus.mjs")

VOCAB = 50257
EOT = 50256
N_LAYER, N_HEAD, N_EMBD, N_POS = 4, 4, 128, 256

# Validation split: every 20th chapter of the Bible (chapters counted from
# Genesis 1 = 0; those with index % 20 == 10), ~5% of the text, spread evenly
# over all books and both testaments. (Earlier models held out eight whole
# books; that measures out-of-book transfer, ~0.4 nats harder, see the model
# card's history.)
VAL_EVERY, VAL_OFFSET = 20, 10

LOG = None


def log(msg):
    line = f"[{time.strftime('%H:%M:%S')}] {msg}"
    print(line, flush=True)
    if LOG is not None:
        LOG.write(line + "\n")
        LOG.flush()


# ----------------------------------------------------------------------------
# corpus
# ----------------------------------------------------------------------------

def load_corpus():
    """Return (train_text, val_text, n_train_verses, n_val_verses, val_chapters):
    verses joined with "\\n", split by chapter (VAL_EVERY, VAL_OFFSET)."""
    out = subprocess.run(["bible", "-f", "gen1:1-rev22:21"], input=b"\n",
                         stdout=subprocess.PIPE, check=True).stdout.decode("ascii")
    train, val, chapters = [], [], []
    for line in out.splitlines():
        line = line.strip()
        if not line:
            continue
        ref, text = line.split(" ", 1)          # "Ge1:1", "In the beginning ..."
        m = re.match(r"(\d?[A-Za-z]+)(\d+):\d+$", ref)   # "Ge" "1", "1Sm" "3"
        chapter = m.group(1) + m.group(2)
        if not chapters or chapters[-1] != chapter:
            chapters.append(chapter)
        held_out = (len(chapters) - 1) % VAL_EVERY == VAL_OFFSET
        (val if held_out else train).append(text.strip())
    assert len(train) + len(val) == 31102, (len(train), len(val))
    assert len(chapters) == 1189, len(chapters)
    val_chapters = chapters[VAL_OFFSET::VAL_EVERY]
    return "\n".join(train), "\n".join(val), len(train), len(val), val_chapters


# ----------------------------------------------------------------------------
# tokenize
# ----------------------------------------------------------------------------

def tokenize(text, path):
    """GPT-2 BPE via node + tiktoken (tools/tokenize_corpus.mjs)."""
    subprocess.run(["node", TOKENIZER, "-", path], input=text.encode("ascii"),
                   check=True, cwd=REPO)
    return np.fromfile(path, dtype="<u2").astype(np.int64)


def detokenize(ids, path):
    np.asarray(ids, dtype="<u2").tofile(path)
    return subprocess.run(["node", TOKENIZER, "--decode", path], check=True,
                          stdout=subprocess.PIPE, cwd=REPO).stdout.decode("utf8")


# ----------------------------------------------------------------------------
# model: exactly GPT-2 (pre-LN, learned positions, gelu_new, tied lm_head)
# ----------------------------------------------------------------------------

def gelu_new(x):
    # 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), as one fused torch op
    return F.gelu(x, approximate="tanh")


class Block(nn.Module):
    def __init__(self, d, n_head):
        super().__init__()
        self.n_head = n_head
        self.ln_1 = nn.LayerNorm(d, eps=1e-5)
        self.c_attn = nn.Linear(d, 3 * d)       # columns q | k | v
        self.c_proj = nn.Linear(d, d)
        self.ln_2 = nn.LayerNorm(d, eps=1e-5)
        self.c_fc = nn.Linear(d, 4 * d)
        self.mlp_proj = nn.Linear(4 * d, d)

    def forward(self, x, mask):
        B, T, C = x.shape
        hd = C // self.n_head
        q, k, v = self.c_attn(self.ln_1(x)).split(C, dim=2)
        q = q.view(B, T, self.n_head, hd).transpose(1, 2)
        k = k.view(B, T, self.n_head, hd).transpose(1, 2)
        v = v.view(B, T, self.n_head, hd).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(hd))
        att = att.masked_fill(~mask[:T, :T], float("-inf")).softmax(dim=-1)
        y = (att @ v).transpose(1, 2).reshape(B, T, C)
        x = x + self.c_proj(y)
        x = x + self.mlp_proj(gelu_new(self.c_fc(self.ln_2(x))))
        return x


class GPT(nn.Module):
    """GPT-2 with a `vocab`-row embedding used both for input and output.

    Training uses vocab = (#seen ids + 1): the last row is the shared vector u
    for all K unseen ids, and its logit gets + log K (`last_logit_bias`).
    Evaluation uses vocab = 50257 with the exported weights.
    """

    def __init__(self, vocab, last_logit_bias=0.0):
        super().__init__()
        self.wte = nn.Embedding(vocab, N_EMBD)
        self.wpe = nn.Embedding(N_POS, N_EMBD)
        self.h = nn.ModuleList([Block(N_EMBD, N_HEAD) for _ in range(N_LAYER)])
        self.ln_f = nn.LayerNorm(N_EMBD, eps=1e-5)
        self.register_buffer("mask", torch.tril(torch.ones(N_POS, N_POS, dtype=torch.bool)))
        bias = torch.zeros(vocab)
        bias[-1] = last_logit_bias
        self.register_buffer("logit_bias", bias)
        self.apply(self._init)
        for b in self.h:  # GPT-2 scaled init of residual projections
            nn.init.normal_(b.c_proj.weight, std=0.02 / math.sqrt(2 * N_LAYER))
            nn.init.normal_(b.mlp_proj.weight, std=0.02 / math.sqrt(2 * N_LAYER))

    @staticmethod
    def _init(m):
        if isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, std=0.02)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Embedding):
            nn.init.normal_(m.weight, std=0.02)

    def hidden(self, idx):
        T = idx.shape[1]
        x = self.wte(idx) + self.wpe(torch.arange(T))
        for b in self.h:
            x = b(x, self.mask)
        return self.ln_f(x)

    def logits(self, h):
        # [B, T, C] -> [B, T, vocab]; bias fused into the GEMM (addmm)
        return F.linear(h, self.wte.weight, self.logit_bias)

    def forward(self, idx):
        return self.logits(self.hidden(idx))


# ----------------------------------------------------------------------------
# train
# ----------------------------------------------------------------------------

def train(args, train_ids, val_ids, seen):
    """Train the compact-vocabulary model; returns (model, stats)."""
    n_seen = len(seen)
    K = VOCAB - n_seen
    remap = np.full(VOCAB, n_seen, dtype=np.int64)   # unseen -> class n_seen (u)
    remap[seen] = np.arange(n_seen)
    tr = torch.from_numpy(remap[train_ids])
    va = torch.from_numpy(remap[val_ids])
    va_unseen = torch.from_numpy(remap[val_ids] == n_seen)

    torch.manual_seed(args.seed)
    model = GPT(n_seen + 1, last_logit_bias=math.log(K))
    if args.init:
        warm_start(model, read_safetensors(os.path.join(args.init, "model.safetensors")), seen)
        log(f"warm start from {args.init}")
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.95), eps=1e-8)
    log(f"model: {sum(p.numel() for p in model.parameters()):,} params "
        f"(compact vocab {n_seen}+1, K={K} unseen ids)")

    gen = torch.Generator().manual_seed(args.seed)
    T, B = N_POS, args.batch
    # fixed validation batches for progress logging (approximate, compact model)
    vstarts = torch.arange(0, len(va) - T - 1, (len(va) - T - 1) // 16)[:16]

    def quick_val():
        model.eval()
        with torch.no_grad():
            x = torch.stack([va[s:s + T] for s in vstarts])
            y = torch.stack([va[s + 1:s + T + 1] for s in vstarts])
            un = torch.stack([va_unseen[s + 1:s + T + 1] for s in vstarts])
            nll = F.cross_entropy(model(x).view(-1, n_seen + 1), y.view(-1), reduction="none")
            nll = nll + un.view(-1).float() * math.log(K)   # exact per-id NLL
        model.train()
        return nll.mean().item()

    budget = math.inf if args.minutes is None else args.minutes * 60.0
    warmup = min(100, max(1, args.steps // 20))

    def lr_at(step):
        # schedule over optimizer steps: linear warmup, cosine to 10%
        if step < warmup:
            return args.lr * (step + 1) / warmup
        f = min(1.0, (step - warmup) / max(1, args.steps - warmup))
        return args.lr * (0.1 + 0.9 * 0.5 * (1.0 + math.cos(math.pi * f)))

    t0 = time.time()
    step, losses, last_log = 0, [], t0
    while step < args.steps:
        elapsed = time.time() - t0
        if elapsed >= budget:
            log(f"stopping at step {step}: --minutes {args.minutes:g} reached")
            break
        lr = lr_at(step)
        for g in opt.param_groups:
            g["lr"] = lr
        starts = torch.randint(0, len(tr) - T - 1, (B,), generator=gen)
        x = torch.stack([tr[s:s + T] for s in starts])
        y = torch.stack([tr[s + 1:s + T + 1] for s in starts])
        loss = F.cross_entropy(model(x).view(-1, n_seen + 1), y.view(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        losses.append(loss.item())
        now = time.time()
        if now - last_log >= args.log_every or step == 1:
            last_log = now
            log(f"step {step:6d}  {elapsed / 60:6.2f} min  lr {lr:.2e}  "
                f"train {np.mean(losses[-50:]):.4f}  val~ {quick_val():.4f}")
    final_train = float(np.mean(losses[-100:]))
    vq = quick_val()
    log(f"done: {step} steps in {(time.time() - t0) / 60:.2f} min, "
        f"train {final_train:.4f}, val~ {vq:.4f}")
    return model, {"steps": step, "final_train_loss": final_train,
                   "minutes": (time.time() - t0) / 60}


# ----------------------------------------------------------------------------
# evaluate: sliding-window scoring, identical to `pipegpt score`
# ----------------------------------------------------------------------------

def score(model, ids, W=N_POS, S=N_POS // 2, batch=16):
    """Windows [s, min(s+W, N)) at s = 0, S, 2S, ...; the first scores targets
    1..e-1, each later one targets [prevE, e); stop once e == N."""
    N = len(ids)
    jobs = []                         # (start, end, first target index)
    if N <= W:
        jobs.append((0, N, 1))
    else:
        s, prev_e = 0, None
        while True:
            e = min(s + W, N)
            jobs.append((s, e, 1 if prev_e is None else prev_e))
            if e == N:
                break
            prev_e, s = e, s + S
    t = torch.as_tensor(np.asarray(ids, dtype=np.int64))
    total, n = 0.0, 0
    model.eval()
    with torch.no_grad():
        for j in range(0, len(jobs), batch):
            chunk = jobs[j:j + batch]
            for L in sorted({e - s for s, e, _ in chunk}):
                group = [c for c in chunk if c[1] - c[0] == L]
                x = torch.stack([t[s:e] for s, e, _ in group])
                h = model.hidden(x)
                for r, (s, e, first) in enumerate(group):
                    pos = torch.arange(first, e) - s        # target positions in window
                    tgt = t[s + pos]
                    # logits only where a target is scored (float32), then log-softmax
                    lp = model.logits(h[r, pos - 1]).double().log_softmax(-1)
                    total -= lp[torch.arange(len(pos)), tgt].sum().item()
                    n += len(pos)
    assert n == N - 1, (n, N)
    mean = total / n
    return {"mean_nll": mean, "perplexity": math.exp(mean), "n_scored": n}


def sample(model, prompt_ids, n_new, temperature, top_k, seed):
    gen = torch.Generator().manual_seed(seed)
    ids = list(prompt_ids)
    model.eval()
    with torch.no_grad():
        for _ in range(n_new):
            x = torch.tensor([ids[-N_POS:]])
            logits = model(x)[0, -1] / temperature
            v, ix = torch.topk(logits, top_k)
            p = v.softmax(-1)
            ids.append(int(ix[torch.multinomial(p, 1, generator=gen)]))
    return ids


# ----------------------------------------------------------------------------
# export: HF GPT2 names, Conv1D layout [in, out], F16 safetensors
# ----------------------------------------------------------------------------

# Per-layer parameters: (name in this script's model, Hugging Face name, stored transposed?).
# nn.Linear keeps [out, in]; HF Conv1D keeps [in, out].
LAYER_PARAMS = [("ln_1.weight", "ln_1.weight", False), ("ln_1.bias", "ln_1.bias", False),
                ("c_attn.weight", "attn.c_attn.weight", True), ("c_attn.bias", "attn.c_attn.bias", False),
                ("c_proj.weight", "attn.c_proj.weight", True), ("c_proj.bias", "attn.c_proj.bias", False),
                ("ln_2.weight", "ln_2.weight", False), ("ln_2.bias", "ln_2.bias", False),
                ("c_fc.weight", "mlp.c_fc.weight", True), ("c_fc.bias", "mlp.c_fc.bias", False),
                ("mlp_proj.weight", "mlp.c_proj.weight", True), ("mlp_proj.bias", "mlp.c_proj.bias", False)]


def export_tensors(model, seen, seed):
    sd = {k: v.detach().float().numpy() for k, v in model.state_dict().items()}
    compact = sd["wte.weight"]
    n_seen = len(seen)
    rng = np.random.default_rng(seed)
    wte = compact[n_seen][None, :] + rng.normal(0.0, 1e-3, (VOCAB, N_EMBD)).astype(np.float32)
    wte[seen] = compact[:n_seen]
    out = {"wte.weight": wte, "wpe.weight": sd["wpe.weight"]}
    for i in range(N_LAYER):
        p = f"h.{i}."
        for ours, hf, tr in LAYER_PARAMS:
            out[p + hf] = sd[p + ours].T if tr else sd[p + ours]
    out["ln_f.weight"] = sd["ln_f.weight"]
    out["ln_f.bias"] = sd["ln_f.bias"]
    return out


def write_safetensors(path, tensors):
    header = {"__metadata__": {"format": "pt"}}
    blobs, off = [], 0
    for name, arr in tensors.items():
        b = np.ascontiguousarray(arr, dtype="<f2").tobytes()
        header[name] = {"dtype": "F16", "shape": list(arr.shape),
                        "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(",", ":")).encode("utf8")
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(len(h).to_bytes(8, "little"))
        f.write(h)
        for b in blobs:
            f.write(b)


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    n = int.from_bytes(data[:8], "little")
    header = json.loads(data[8:8 + n])
    header.pop("__metadata__", None)
    base = 8 + n
    out = {}
    for name, info in header.items():
        assert info["dtype"] == "F16"
        a, b = info["data_offsets"]
        out[name] = np.frombuffer(data[base + a:base + b], dtype="<f2").reshape(info["shape"])
    return out


def warm_start(model, tensors, seen):
    """Loads an exported checkpoint into the compact-vocabulary training model: seen ids keep
    their rows, the shared unseen vector u is the mean of the unseen rows (u + noise on export)."""
    full = load_full_model(tensors).state_dict()
    sd = model.state_dict()
    for k in sd:
        if k not in ("wte.weight", "mask", "logit_bias"):
            sd[k] = full[k]
    wte = full["wte.weight"]
    unseen = np.ones(VOCAB, dtype=bool)
    unseen[seen] = False
    sd["wte.weight"] = torch.cat([wte[torch.from_numpy(seen)], wte[torch.from_numpy(unseen)].mean(0, keepdim=True)])
    model.load_state_dict(sd)


def load_full_model(tensors):
    """Plain 50257-vocab GPT-2 in float32 from HF-named tensors."""
    model = GPT(VOCAB)
    sd = {"wte.weight": tensors["wte.weight"], "wpe.weight": tensors["wpe.weight"],
          "ln_f.weight": tensors["ln_f.weight"], "ln_f.bias": tensors["ln_f.bias"]}
    for i in range(N_LAYER):
        p = f"h.{i}."
        for ours, hf, tr in LAYER_PARAMS:
            a = tensors[p + hf]
            sd[p + ours] = a.T if tr else a
    sd = {k: torch.from_numpy(np.array(v, dtype=np.float32)) for k, v in sd.items()}
    sd["mask"] = model.mask
    sd["logit_bias"] = torch.zeros(VOCAB)
    model.load_state_dict(sd)
    return model


CONFIG = {
    "architectures": ["GPT2LMHeadModel"], "model_type": "gpt2",
    "n_layer": N_LAYER, "n_head": N_HEAD, "n_embd": N_EMBD,
    "n_positions": N_POS, "n_ctx": N_POS, "vocab_size": VOCAB, "n_inner": None,
    "activation_function": "gelu_new", "layer_norm_epsilon": 1e-05,
    "tie_word_embeddings": True, "bos_token_id": EOT, "eos_token_id": EOT,
    "resid_pdrop": 0.0, "embd_pdrop": 0.0, "attn_pdrop": 0.0,
}


def command_line(args):
    """The command that reproduces this run (non-default options only)."""
    parts = ["/usr/bin/python3 tools/train_demo.py"]
    for flag, value, default in [("--steps", args.steps, 2400), ("--lr", args.lr, 3e-3),
                                 ("--batch", args.batch, 8), ("--seed", args.seed, 1234),
                                 ("--init", args.init, None)]:
        if value != default:
            parts.append(f"{flag} {value:g}" if isinstance(value, float) else f"{flag} {value}")
    return " ".join(parts)


def main():
    global LOG
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--steps", type=int, default=2400, help="optimizer steps (the schedule's length)")
    ap.add_argument("--minutes", type=float, default=None,
                    help="optional wall-clock cap; stopping early leaves the schedule unfinished")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--out", default=os.path.join(REPO, "models", "kjv-gpt2-tiny"))
    ap.add_argument("--work", default="/tmp/pipegpt-train", help="scratch directory")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--log-every", type=float, default=60.0, help="seconds")
    ap.add_argument("--init", default=None, help="warm start from an exported checkpoint directory "
                    "(continue training; the learning-rate schedule starts again)")
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    os.makedirs(args.out, exist_ok=True)
    LOG = open(os.path.join(args.work, "log.txt"), "a")
    torch.set_num_threads(args.threads)
    log(f"args: {vars(args)}")

    # corpus + tokenize
    train_text, val_text, n_tr_verses, n_va_verses, val_chapters = load_corpus()
    train_ids = tokenize(train_text, os.path.join(args.work, "train.bin"))
    val_ids = tokenize(val_text, os.path.join(args.work, "val.bin"))
    seen = np.unique(train_ids)
    log(f"corpus: train {n_tr_verses} verses / {len(train_ids)} tokens, "
        f"val {n_va_verses} verses / {len(val_ids)} tokens, {len(seen)} distinct train ids")

    # train
    model, stats = train(args, train_ids, val_ids, seen)

    # export
    st_path = os.path.join(args.out, "model.safetensors")
    write_safetensors(st_path, export_tensors(model, seen, args.seed))
    with open(os.path.join(args.out, "config.json"), "w") as f:
        json.dump(CONFIG, f, indent=2)
        f.write("\n")
    with open(os.path.join(args.out, "val-ids.json"), "w") as f:
        json.dump([int(i) for i in val_ids], f)
        f.write("\n")
    excerpt = [int(i) for i in val_ids[:1024]]
    with open(os.path.join(args.out, "val-excerpt.json"), "w") as f:
        json.dump(excerpt, f)
        f.write("\n")

    # evaluate the F16 round trip in float32
    full = load_full_model(read_safetensors(st_path))
    val = score(full, val_ids)
    vex = score(full, excerpt)
    log(f"val (F16 round trip): nll {val['mean_nll']:.4f} ppl {val['perplexity']:.2f} "
        f"n {val['n_scored']}; excerpt nll {vex['mean_nll']:.4f} ppl {vex['perplexity']:.2f}")

    samples = []
    for k, prompt in enumerate(["In the beginning", "And Jesus said unto them,",
                                "The LORD is my shepherd;"]):
        p_ids = tokenize(prompt, os.path.join(args.work, "prompt.bin")).tolist()
        out = sample(full, p_ids, 60, 0.8, 40, args.seed + k)
        text = detokenize(out, os.path.join(args.work, "sample.bin"))
        samples.append({"prompt": prompt, "text": text, "temperature": 0.8,
                        "top_k": 40, "seed": args.seed + k})
        log(f"sample: {text!r}")

    previous = None
    if args.init and os.path.exists(os.path.join(args.init, "training.json")):
        with open(os.path.join(args.init, "training.json")) as f:
            previous = json.load(f)   # the run this one continued, for the full history
    info = {
        "corpus": "Debian bible-kjv (KJV, public domain)",
        "validation_split": f"every {VAL_EVERY}th chapter, index % {VAL_EVERY} == {VAL_OFFSET} (Genesis 1 = 0)",
        "validation_chapters": val_chapters,
        "train_verses": n_tr_verses, "val_verses": n_va_verses,
        "train_tokens": int(len(train_ids)), "val_tokens": int(len(val_ids)),
        "distinct_train_ids": int(len(seen)),
        "seed": args.seed, "steps_planned": args.steps, "steps": stats["steps"],
        "minutes": round(stats["minutes"], 1), "init": args.init,
        "previous_run": previous,
        "batch": [args.batch, N_POS], "lr": args.lr,
        "schedule": "AdamW(0.9,0.95, wd 0.1 on matrices), linear warmup then cosine to 10% over --steps, grad clip 1.0",
        "final_train_loss": stats["final_train_loss"],
        "val": {"file": "val-ids.json", **val},
        "val_excerpt": {"file": "val-excerpt.json", **vex},
        "samples": samples,
        "scoring": "windows of n_positions=256, stride 128, each token after the first scored once",
        "command": command_line(args),
    }
    with open(os.path.join(args.out, "training.json"), "w") as f:
        json.dump(info, f, indent=2)
        f.write("\n")

    n_params = sum(a.size for a in read_safetensors(st_path).values())
    with open(os.path.join(args.out, "README.md"), "w") as f:
        f.write(f"""# kjv-gpt2-tiny

A tiny GPT-2 (4 layers, 4 heads, 128 wide, 256 positions, GPT-2 BPE vocabulary
of 50257, tied embeddings; {n_params:,} parameters) trained from scratch
on the King James Bible (Debian `bible-kjv`, public domain). It is the default
demo model of pipegpt: small and fast, and it writes recognisable KJV English,
but it is no general language model.

Files: `config.json` (Hugging Face GPT2 config), `model.safetensors` (F16,
Hugging Face `GPT2Model` names), `val-ids.json` (the validation split as
token ids), `val-excerpt.json` (its first 1024 ids), `training.json` (split, hyper-parameters, scores, samples).

## Training

    {command_line(args)}

(needs `apt-get install python3-torch bible-kjv`, node and the npm package
`tiktoken`; Debian's torch uses the reference BLAS unless an optimised
libblas.so.3 such as `libopenblas0-pthread` is installed, which is much faster).
Verses are joined with newlines; every {VAL_EVERY}th chapter ({len(val_chapters)} chapters spread over
all books, listed in training.json) is held out for validation ({len(val_ids):,} tokens);
the other {len(train_ids):,} tokens are for training. {stats['steps']} steps of
{args.batch}x{N_POS} tokens, AdamW, peak lr {args.lr:g} with warmup and cosine decay
over the steps, seed {args.seed}; {stats['minutes']:.0f} minutes on 2 CPU threads.

## Validation (F16 weights, sliding windows of 256, stride 128)

Held-out chapters measure the model on unseen text of the same books. Whole held-out books are a
harder test (transfer to another book's style): an earlier model that held out eight books
(Ruth, Esther, Ecclesiastes, Joel, Jonah, Mark, Philippians, James) scored 4.454 nats/token on
them at a training loss of 4.02.

| set | tokens scored | mean NLL (nats) | perplexity |
|---|---|---|---|
| validation chapters | {val['n_scored']:,} | {val['mean_nll']:.4f} | {val['perplexity']:.2f} |
| val-excerpt.json | {vex['n_scored']:,} | {vex['mean_nll']:.4f} | {vex['perplexity']:.2f} |

## Sample (temperature 0.8, top-k 40, seed {samples[0]['seed']})

```
{samples[0]['text']}
```
""")
    log(f"wrote {args.out}")


if __name__ == "__main__":
    main()
