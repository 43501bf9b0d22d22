"""Optional external check: load every Llama-family fixture with Hugging Face transformers
itself (AutoModelForCausalLM.from_pretrained on the fixture directory: its own config.json and
safetensors parsing, tied weights, rope_scaling, sliding window, q/k norms) and compare with
golden.json: logits at every prompt position, the greedy continuation, and the sliding-window
token log-probs. Not needed to regenerate anything; transformers is not a project dependency.

Run it with any python that has transformers >= 4.51 and torch >= 2, e.g. a throwaway venv:

    python3 -m venv /tmp/hfvenv && /tmp/hfvenv/bin/pip install torch transformers numpy
    /tmp/hfvenv/bin/python tools/check_golden_hf.py [case ...]

The model runs in float64 with eager attention; HF still computes the rotary cos/sin in
float32, so agreement is ~1e-6 relative rather than ~1e-15.
"""

import json
import os
import sys

import numpy as np
import torch
import transformers
from transformers import AutoModelForCausalLM

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CASES = ["llama-smollm2", "qwen2-bf16-sharded", "qwen3-f16", "llama32-rope-llama3",
         "llama3-rope-bands", "mistral-window", "tinyllama-linear"]
TOL = 1e-5


def logits_of(model, ids):
    with torch.no_grad():
        return model(torch.tensor([ids])).logits[0].double().numpy()


def check(name):
    d = os.path.join(ROOT, "test", "fixtures", "ckpt", name)
    g = json.load(open(os.path.join(d, "golden.json")))
    model = AutoModelForCausalLM.from_pretrained(d, dtype=torch.float64, attn_implementation="eager")
    model.eval()
    ref = np.array(g["logits"])
    got = logits_of(model, g["prompt_ids"])
    rel_logits = float(np.abs(got - ref).max() / np.abs(ref).max())

    seq = list(g["greedy"]["prompt_ids"])
    for _ in range(g["greedy"]["max_tokens"]):
        seq.append(int(np.argmax(logits_of(model, seq)[-1])))
    greedy_ok = seq[len(g["greedy"]["prompt_ids"]):] == g["greedy"]["ids"]

    s = g["score"]
    toks, W, stride, N = s["ids"], s["window"], s["stride"], len(s["ids"])
    lp = [None] * (N - 1)
    start, prev_end = 0, None
    while True:
        end = min(start + W, N)
        lg = torch.log_softmax(torch.from_numpy(logits_of(model, toks[start:end])), dim=-1).numpy()
        for i in range(1 if prev_end is None else prev_end, end):
            lp[i - 1] = lg[i - 1 - start, toks[i]]
        prev_end = end
        if end == N:
            break
        start += stride
    ref_lp = np.array(s["token_logprobs"])
    rel_score = float(np.abs(np.array(lp) - ref_lp).max() / np.abs(ref_lp).max())
    ok = rel_logits <= TOL and greedy_ok and rel_score <= TOL
    print("%-22s %s  logits rel %.2e  greedy %s  score rel %.2e" % (
        name, "OK  " if ok else "FAIL", rel_logits, "equal" if greedy_ok else "DIFFERENT", rel_score))
    return ok


def main(argv):
    torch.set_num_threads(1)
    transformers.utils.logging.disable_progress_bar()
    print("transformers %s, torch %s" % (transformers.__version__, torch.__version__))
    names = argv[1:] or CASES
    results = [check(n) for n in names]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
