#!/usr/bin/env python3
"""Convert a Hugging Face Llama-family directory (LlamaForCausalLM: config.json + model.safetensors,
F32/F16/BF16) to a GGUF v3 file of arch `llama` for the llama.cpp peer of bench/peer.ts.

numpy only. It writes what llama.cpp's convert_hf_to_gguf.py (conversion/llama.py + base.py, as
bundled with node-llama-cpp 3.21.1) writes for a LlamaForCausalLM:

  tensors   model.embed_tokens -> token_embd          model.norm -> output_norm
            lm_head (only when the checkpoint has one; tied: llama.cpp reuses token_embd) -> output
            model.layers.N.{input_layernorm, self_attn.{q,k,v,o}_proj, post_attention_layernorm,
            mlp.{gate,up,down}_proj} -> blk.N.{attn_norm, attn_q, attn_k, attn_v, attn_output,
            ffn_norm, ffn_gate, ffn_up, ffn_down}
            q_proj / k_proj rows permuted (LlamaModel.permute with n_head / n_head_kv): HF rotates
            the two halves of a head, llama.cpp's rope (NORM) rotates adjacent pairs.
  types     1-D and *_norm.weight: F32; other weights: --outtype (q8_0 bit-exact with ggml,
            F16 where a row is not a multiple of 32).
  metadata  llama.{context_length, embedding_length, block_count, feed_forward_length,
            attention.head_count, attention.head_count_kv, rope.freq_base,
            attention.layer_norm_rms_epsilon, vocab_size, rope.dimension_count} (+ key_length /
            value_length when config.json sets head_dim), general.file_type.

The peer's hf2gguf.py (GPT-2 only) is imported from --peer-dir for everything that is not Llama
specific (safetensors reader, q8_0, tensor encoding, GGUF key/value writer, vocabulary), so the two
converters cannot drift apart. A checkpoint here has no tokenizer (bench/random-checkpoint.ts writes
none), and llama.cpp refuses a model without one: the GGUF gets the GPT-2 byte-level BPE vocabulary
(tiktoken's ranks, as hf2gguf.py builds it) cut to exactly vocab_size tokens, with the merges that
stay inside it. The benchmark feeds token ids, so the vocabulary only has to load.

Usage:
  /usr/bin/python3 bench/llama2gguf.py HF_DIR OUT.gguf [--outtype f32|f16|bf16|q8_0]
                                       [--peer-dir /tmp/llamacpp] [--name NAME] [-v]
"""
import argparse
import json
import os
import struct
import sys

import numpy as np

BLOCK = {
    'input_layernorm': 'attn_norm', 'self_attn.q_proj': 'attn_q', 'self_attn.k_proj': 'attn_k',
    'self_attn.v_proj': 'attn_v', 'self_attn.o_proj': 'attn_output', 'post_attention_layernorm': 'ffn_norm',
    'mlp.gate_proj': 'ffn_gate', 'mlp.up_proj': 'ffn_up', 'mlp.down_proj': 'ffn_down',
}
TOP = {'model.embed_tokens.weight': 'token_embd.weight', 'model.norm.weight': 'output_norm.weight',
       'lm_head.weight': 'output.weight'}


def import_peer(peer_dir):
    """The peer's hf2gguf module; no __pycache__ written into the peer's (read-only) folder."""
    sys.dont_write_bytecode = True
    sys.path.insert(0, os.path.abspath(peer_dir))
    try:
        import hf2gguf
    except ImportError as e:
        raise SystemExit(f'cannot import hf2gguf.py from --peer-dir {peer_dir}: {e}')
    return hf2gguf


def permute(w, n_head, n_head_kv):
    """convert_hf_to_gguf.py's LlamaModel.permute (K uses the KV head count)."""
    if n_head_kv is not None and n_head != n_head_kv:
        n_head = n_head_kv
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


class Hparams:
    """The config.json fields the llama arch needs; anything llama.cpp would read differently is refused."""

    def __init__(self, cfg):
        self.n_layer, self.n_embd = cfg['num_hidden_layers'], cfg['hidden_size']
        self.n_head = cfg['num_attention_heads']
        self.n_head_kv = cfg.get('num_key_value_heads', self.n_head)
        self.n_ff, self.n_vocab = cfg['intermediate_size'], cfg['vocab_size']
        self.n_ctx = cfg.get('max_position_embeddings')
        self.eps = cfg.get('rms_norm_eps')
        self.head_dim = cfg.get('head_dim')
        self.rope_dim = self.head_dim or self.n_embd // self.n_head
        rope = cfg.get('rope_parameters') or cfg.get('rope_scaling') or {}
        if rope.get('rope_type', rope.get('type', 'default')) != 'default':
            raise SystemExit(f'rope scaling {rope} is not supported by this converter')
        self.rope_theta = rope.get('rope_theta', cfg.get('rope_theta'))
        if cfg.get('attention_bias') or cfg.get('mlp_bias'):
            raise SystemExit('attention_bias / mlp_bias checkpoints are not supported by this converter')
        if cfg.get('hidden_act', 'silu') != 'silu':
            raise SystemExit(f"hidden_act {cfg.get('hidden_act')} != silu: llama.cpp's llama arch uses SwiGLU")
        self.bos, self.eos = cfg.get('bos_token_id'), cfg.get('eos_token_id')


def map_name(name):
    """HF name -> (gguf name, rows permuted for this many heads or None), or None to drop."""
    if name.endswith('.rotary_emb.inv_freq'):
        return None
    if name in TOP:
        return TOP[name], None
    if name.startswith('model.layers.'):
        bid, rest = name[len('model.layers.'):].split('.', 1)
        stem, suffix = rest.rsplit('.', 1)
        if stem in BLOCK and suffix == 'weight':
            return f'blk.{int(bid)}.{BLOCK[stem]}.weight', stem
    raise SystemExit(f'cannot map tensor {name!r} (only plain LlamaForCausalLM checkpoints are supported)')


def tensor_plan(src, hp):
    """[(gguf name, hf name, shape, stem)] in llama.cpp's usual order, checked against config.json."""
    plan = []
    for hf_name, entry in src.items():
        m = map_name(hf_name)
        if m:
            plan.append((m[0], hf_name, entry[1], m[1]))
    rank = {g: i for i, g in enumerate(BLOCK.values())}

    def order(p):
        g = p[0]
        if g.startswith('blk.'):
            _, b, kind, _ = g.split('.')
            return (1, int(b), rank[kind])
        return (0 if g == 'token_embd.weight' else 2, 0, 0 if g == 'output_norm.weight' else 1)
    plan.sort(key=order)
    expected = 2 + 9 * hp.n_layer + (1 if any(p[0] == 'output.weight' for p in plan) else 0)
    if len(plan) != expected:
        raise SystemExit(f'expected {expected} tensors, found {len(plan)}: {[p[0] for p in plan]}')
    shape = {p[0]: p[2] for p in plan}
    d = hp.head_dim or hp.n_embd // hp.n_head
    for g, want in (('token_embd.weight', (hp.n_vocab, hp.n_embd)), ('blk.0.attn_q.weight', (hp.n_head * d, hp.n_embd)),
                    ('blk.0.attn_k.weight', (hp.n_head_kv * d, hp.n_embd)), ('blk.0.ffn_up.weight', (hp.n_ff, hp.n_embd))):
        if tuple(shape[g]) != want:
            raise SystemExit(f'{g}: shape {shape[g]} != {want} from config.json')
    return plan


def metadata(hf, hp, args, tokens, toktypes, merges, n_params):
    kv = [
        ('general.architecture', hf.T_STRING, 'llama'), ('general.type', hf.T_STRING, 'model'),
        ('general.name', hf.T_STRING, args.name or os.path.basename(os.path.normpath(args.model_dir))),
        ('general.size_label', hf.T_STRING, hf.size_label(n_params)),
        ('llama.block_count', hf.T_UINT32, hp.n_layer),
    ]
    if hp.n_ctx is not None:
        kv.append(('llama.context_length', hf.T_UINT32, hp.n_ctx))
    kv += [
        ('llama.embedding_length', hf.T_UINT32, hp.n_embd), ('llama.feed_forward_length', hf.T_UINT32, hp.n_ff),
        ('llama.attention.head_count', hf.T_UINT32, hp.n_head), ('llama.attention.head_count_kv', hf.T_UINT32, hp.n_head_kv),
    ]
    if hp.rope_theta is not None:
        kv.append(('llama.rope.freq_base', hf.T_FLOAT32, float(hp.rope_theta)))
    if hp.eps is not None:
        kv.append(('llama.attention.layer_norm_rms_epsilon', hf.T_FLOAT32, float(hp.eps)))
    if hp.head_dim is not None:
        kv += [('llama.attention.key_length', hf.T_UINT32, hp.head_dim), ('llama.attention.value_length', hf.T_UINT32, hp.head_dim)]
    kv += [
        ('general.file_type', hf.T_UINT32, hf.FTYPE[args.outtype]),
        ('llama.vocab_size', hf.T_UINT32, hp.n_vocab), ('llama.rope.dimension_count', hf.T_UINT32, hp.rope_dim),
        ('general.quantization_version', hf.T_UINT32, hf.QUANT_VERSION),
        ('tokenizer.ggml.model', hf.T_STRING, 'gpt2'), ('tokenizer.ggml.pre', hf.T_STRING, 'gpt-2'),
        ('tokenizer.ggml.tokens', hf.T_ARRAY, (hf.T_STRING, tokens)),
        ('tokenizer.ggml.token_type', hf.T_ARRAY, (hf.T_INT32, toktypes)),
        ('tokenizer.ggml.merges', hf.T_ARRAY, (hf.T_STRING, merges)),
    ]
    for key, tid in (('bos', hp.bos), ('eos', hp.eos)):
        if isinstance(tid, int) and tid < hp.n_vocab:
            kv.append((f'tokenizer.ggml.{key}_token_id', hf.T_UINT32, tid))
    if hp.n_vocab == 49152:  # upstream LlamaModel.set_vocab does this for 49152-token (SmolLM / granite) vocabularies
        kv.append(('tokenizer.ggml.add_bos_token', hf.T_BOOL, False))
    return kv


def tensor_data(hf, hp, entry, stem, q):
    a = hf.st_to_numpy(entry)
    if stem == 'self_attn.q_proj':
        a = permute(a, hp.n_head, hp.n_head)
    elif stem == 'self_attn.k_proj':
        a = permute(a, hp.n_head, hp.n_head_kv)
    return hf.encode_tensor(a, q)


def write_gguf(hf, args, hp, src, plan, kv):
    """Header, key/values, tensor infos, then the data, each tensor aligned to hf.ALIGN (GGUF v3)."""
    infos, offset = [], 0
    for gname, hf_name, shape, stem in plan:
        q = hf.pick_qtype(gname, shape, args.outtype)
        nbytes = hf.tensor_bytes(shape, q)
        infos.append((gname, hf_name, shape, stem, q, offset, nbytes))
        offset += (nbytes + hf.ALIGN - 1) // hf.ALIGN * hf.ALIGN
    tmp = args.out + '.tmp'
    with open(tmp, 'wb') as f:
        f.write(hf.GGUF_MAGIC + struct.pack('<IQQ', hf.GGUF_VERSION, len(infos), len(kv)))
        for k, t, v in kv:
            f.write(hf.w_kv(k, t, v))
        for gname, _, shape, _, q, off, _ in infos:
            dims = list(shape)[::-1]  # ggml's ne[0] is the contiguous dimension
            f.write(hf.w_str(gname) + struct.pack('<I', len(dims)) + struct.pack(f'<{len(dims)}Q', *dims) + struct.pack('<IQ', q, off))
        f.write(b'\0' * ((-f.tell()) % hf.ALIGN))
        start = f.tell()
        for gname, hf_name, shape, stem, q, off, nbytes in infos:
            assert f.tell() - start == off
            b = tensor_data(hf, hp, src[hf_name], stem, q)
            assert len(b) == nbytes, (gname, len(b), nbytes)
            f.write(b + b'\0' * ((-nbytes) % hf.ALIGN))
            if args.verbose:
                print(f'{gname:28s} {src[hf_name][0]:>4s} -> type {q:2d} ne={list(shape)[::-1]}', file=sys.stderr)
    os.replace(tmp, args.out)  # never leave a half-written file under the cached name
    return len(infos)


def convert(args):
    hf = import_peer(args.peer_dir)
    cfg = json.load(open(os.path.join(args.model_dir, 'config.json')))
    if cfg.get('model_type') != 'llama':
        raise SystemExit(f"model_type {cfg.get('model_type')!r} is not llama")
    hp = Hparams(cfg)
    src = hf.load_safetensors(args.model_dir)
    plan = tensor_plan(src, hp)
    tokens, toktypes, merges = hf.build_gpt2_vocab(args.tiktoken_json or hf.DEFAULT_TIKTOKEN, hp.n_vocab)
    assert len(tokens) == hp.n_vocab
    n_params = sum(int(np.prod(p[2])) for p in plan)
    n = write_gguf(hf, args, hp, src, plan, metadata(hf, hp, args, tokens, toktypes, merges, n_params))
    print(json.dumps({'out': args.out, 'bytes': os.path.getsize(args.out), 'tensors': n, 'params': n_params,
                      'outtype': args.outtype, 'n_vocab': len(tokens), 'n_merges': len(merges),
                      'output_weight': any(p[0] == 'output.weight' for p in plan)}))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('model_dir')
    ap.add_argument('out')
    ap.add_argument('--outtype', choices=['f32', 'f16', 'bf16', 'q8_0'], default='f16')
    ap.add_argument('--peer-dir', default='/tmp/llamacpp', help="the llama.cpp peer's folder (its hf2gguf.py)")
    ap.add_argument('--name', default=None, help='general.name (default: the directory name)')
    ap.add_argument('--tiktoken-json', default=None, help="default: the peer's node_modules/tiktoken/encoders/gpt2.json")
    ap.add_argument('-v', '--verbose', action='store_true')
    convert(ap.parse_args())


if __name__ == '__main__':
    main()
