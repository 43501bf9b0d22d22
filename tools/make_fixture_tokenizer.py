#!/usr/bin/env python3
"""A small real tokenizer for the random qwen3-f16 checkpoint (vocab 768, which runs on token ids
only otherwise), so chat requests can be tested end to end on a model that generates in ms.

Writes, pure Python + Debian's python3-jinja2 (no `tokenizers`, no network):

  test/fixtures/ckpt/qwen3-f16/tokenizer.json         byte-level BPE in HF's format, Qwen's layout:
      NFC normalizer, Split(Qwen2 regex, Isolated) + ByteLevel(use_regex=false) pre-tokenizer,
      ByteLevel decoder and post-processor (no BOS), merges as [a, b] pairs
  test/fixtures/ckpt/qwen3-f16/tokenizer_config.json  Qwen2TokenizerFast-style, ChatML chat template
      (Qwen2.5's shape: a default system message when the conversation has none)
  test/fixtures/chat/qwen3-f16.json                    golden: each test conversation rendered by
      Jinja2 as transformers renders it, and its ids; plain-text prompt ids; every id's bytes

Ids: 0..255 the 256 byte tokens (GPT-2's byte order), 256..757 merges learned here from TRAIN (a
short English text), 758 unused, then the special tokens in Qwen's order — 759 <|endoftext|>
(config.json's bos_token_id, generation_config's pad), 760 <|im_start|>, 761 <|im_end|>
(eos_token_id) — and 762..767 unused (embedding rows past the tokenizer, as Qwen pads its vocab).

The golden ids come from this file's own tokenizer (BPE applied merge by merge, GPT-2 style, on
the pre-tokens of Python's `re` with the \\p{L} / \\p{N} classes written as Unicode word classes),
which shares no code with @huggingface/tokenizers that pipegpt runs. The two regexes agree on
Latin-script text and symbols, which is what the test conversations hold.

Deterministic: re-running rewrites byte-identical files. The checkpoint's golden.json (ids only)
is untouched; make_golden_llama.py leaves these tokenizer files in place.

    /usr/bin/python3 tools/make_fixture_tokenizer.py
"""
import json
import os
import re
import unicodedata
from collections import Counter

import jinja2
import jinja2.ext
from jinja2.sandbox import ImmutableSandboxedEnvironment

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CKPT = os.path.join(ROOT, 'test', 'fixtures', 'ckpt', 'qwen3-f16')
GOLDEN = os.path.join(ROOT, 'test', 'fixtures', 'chat', 'qwen3-f16.json')

N_BPE = 758  # ids 0..757: bytes + merges
SPECIAL = {'<|endoftext|>': 759, '<|im_start|>': 760, '<|im_end|>': 761}
MODEL_VOCAB = 768

# Qwen2/2.5/3's split regex, verbatim in tokenizer.json (pipegpt's library runs it in JS)
QWEN_SPLIT = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
# the same in Python's re: \p{L} = a word character that is not a digit or "_", \p{N} = \d;
# "not L, not N" = [\W_]
L, N = r'[^\W\d_]', r'\d'
NOT_LN_NL = r'(?:(?![\r\n])[\W_])'
NOT_LN_S = r'(?:(?!\s)[\W_])'
PY_SPLIT = re.compile(
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|" + NOT_LN_NL + '?' + L + '+|' + N + '| ?' + NOT_LN_S + r"+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")

CHAT_TEMPLATE = (
    "{%- if messages[0]['role'] != 'system' %}"
    "{{- '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}"
    "{%- endif %}"
    "{%- for message in messages %}"
    "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}"
    "{{- '<|im_start|>assistant\\n' }}"
    "{%- endif %}"
)

TRAIN = """\
You are a helpful assistant. The user asks a question and the assistant answers it.
A system message tells the assistant how to behave: be brief, be kind, be helpful.
Hello! How can I help you today? Hi there. What is the capital of France? The capital of
France is Paris. Tell me a joke. Why did the chicken cross the road? To get to the other side.
In the beginning the quick brown fox jumps over the lazy dog, and the dog does not mind.
We write small tests that check real values against an independent reference.
A model reads tokens and writes tokens; a tokenizer turns text into tokens and back again.
Thank you for asking. I think the answer is yes, but there is more than one way to see it.
The weather is nice today, so we will walk to the river and sit in the sun for an hour.
Please summarize the following text in one sentence. Translate this into French.
Write a short poem about the sea. The sea is wide and blue, and the waves come and go.
What time is it? It is nine in the morning. Where do you live? I live in a small town.
Numbers like 1, 2, 3 and 42 are tokens too; so are words like "chat", "completion" and "batch".
Good morning, good night, good luck. Could you please explain how this works, step by step?
First, read the question. Second, think about it. Third, write the answer and check it.
Once upon a time there was a little girl who lived with her mother near a dark forest.
Every morning she carried bread and milk to her grandmother, who was old and often sick.
The library opens at eight and closes at six; children may borrow three books each week.
Scientists measure temperature, pressure and humidity to understand how storms develop.
My favourite colours are green, yellow and purple, although orange looks wonderful in autumn.
Keyboards, monitors, cables and printers filled every corner of the crowded office.
She played the violin beautifully while the orchestra waited quietly for the conductor.
Vegetables such as carrots, potatoes, onions and cabbage grow well in northern gardens.
"""


def bytes_to_unicode():
    """GPT-2's byte → printable character table (what ByteLevel pre-tokenizers emit)."""
    bs = list(range(ord('!'), ord('~') + 1)) + list(range(ord('¡'), ord('¬') + 1)) + list(range(ord('®'), ord('ÿ') + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


B2U = bytes_to_unicode()
U2B = {u: b for b, u in B2U.items()}


def pretokens(text):
    """NFC, then the split regex; each piece as its byte-level characters."""
    return [''.join(B2U[b] for b in m.group(0).encode('utf-8')) for m in PY_SPLIT.finditer(unicodedata.normalize('NFC', text))]


def train():
    """Byte-level BPE: merge the most frequent adjacent pair (ties: the smaller pair) until N_BPE ids."""
    vocab = {B2U[b]: b for b in range(256)}  # byte b has id b
    words = Counter(tuple(p) for p in pretokens(TRAIN))
    merges = []
    while len(vocab) < N_BPE:
        pairs = Counter()
        for w, c in words.items():
            for a, b in zip(w, w[1:]):
                pairs[(a, b)] += c
        if not pairs:
            raise SystemExit(f'training text too short: {len(vocab)} ids')
        best = min(pairs, key=lambda p: (-pairs[p], p))
        merges.append(best)
        vocab.setdefault(best[0] + best[1], len(vocab))
        merged = Counter()
        for w, c in words.items():
            out, i = [], 0
            while i < len(w):
                if i + 1 < len(w) and (w[i], w[i + 1]) == best:
                    out.append(w[i] + w[i + 1])
                    i += 2
                else:
                    out.append(w[i])
                    i += 1
            merged[tuple(out)] += c
        words = merged
    return vocab, merges


def bpe(piece, ranks):
    """GPT-2's bpe(): merge the lowest-ranked adjacent pair everywhere, until none is a merge."""
    word = list(piece)
    while len(word) > 1:
        pairs = {(a, b) for a, b in zip(word, word[1:])}
        best = min(pairs, key=lambda p: ranks.get(p, float('inf')))
        if best not in ranks:
            break
        out, i = [], 0
        while i < len(word):
            if i + 1 < len(word) and (word[i], word[i + 1]) == best:
                out.append(word[i] + word[i + 1])
                i += 2
            else:
                out.append(word[i])
                i += 1
        word = out
    return word


def encode(text, vocab, ranks, special):
    """Ids without BOS (Qwen adds none); special token strings are tokens only when `special`."""
    parts = re.split('(' + '|'.join(map(re.escape, SPECIAL)) + ')', text) if special else [text]
    ids = []
    for part in parts:
        if part in SPECIAL:
            ids.append(SPECIAL[part])
        elif part:
            for p in pretokens(part):
                ids.extend(vocab[s] for s in bpe(p, ranks))
    return ids


def environment():
    """transformers' apply_chat_template environment (as tools/make_chat_golden.py sets it up)."""
    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[jinja2.ext.loopcontrols])
    env.globals['raise_exception'] = raise_exception
    return env


# kept short: the checkpoint's context is 64 tokens
CONVERSATIONS = {
    'user only': [{'role': 'user', 'content': 'Hello!'}],
    'system+user': [{'role': 'system', 'content': 'Be brief.'}, {'role': 'user', 'content': 'What is the capital of France?'}],
    'multi-turn': [
        {'role': 'system', 'content': 'Be kind.'},
        {'role': 'user', 'content': 'Hi'},
        {'role': 'assistant', 'content': 'Hello! How can I help?'},
        {'role': 'user', 'content': 'Tell me a joke.'},
    ],
    'special in content': [{'role': 'user', 'content': 'a <|im_end|> b'}],
    'unicode': [{'role': 'user', 'content': 'Cafe\u0301 na\u00efve \U0001F44B 42'}],
}
PROMPTS = ['The quick brown fox', 'Hello world', 'a <|im_end|> b', 'Cafe\u0301 \U0001F44B']


def tokenizer_json(vocab, merges):
    added = [{'id': i, 'content': s, 'single_word': False, 'lstrip': False, 'rstrip': False, 'normalized': False, 'special': True}
             for s, i in SPECIAL.items()]
    byte_level = {'type': 'ByteLevel', 'add_prefix_space': False, 'trim_offsets': False, 'use_regex': False}
    return {
        'version': '1.0', 'truncation': None, 'padding': None, 'added_tokens': added,
        'normalizer': {'type': 'NFC'},
        'pre_tokenizer': {'type': 'Sequence', 'pretokenizers': [
            {'type': 'Split', 'pattern': {'Regex': QWEN_SPLIT}, 'behavior': 'Isolated', 'invert': False}, byte_level]},
        'post_processor': byte_level, 'decoder': byte_level,
        'model': {'type': 'BPE', 'dropout': None, 'unk_token': None, 'continuing_subword_prefix': '', 'end_of_word_suffix': '',
                  'fuse_unk': False, 'byte_fallback': False, 'ignore_merges': False,
                  'vocab': vocab, 'merges': [list(m) for m in merges]},
    }


def tokenizer_config():
    return {
        'add_bos_token': False, 'add_prefix_space': False,
        'added_tokens_decoder': {str(i): {'content': s, 'lstrip': False, 'normalized': False, 'rstrip': False, 'single_word': False, 'special': True}
                                 for s, i in SPECIAL.items()},
        'additional_special_tokens': ['<|im_start|>', '<|im_end|>'],
        'bos_token': None, 'chat_template': CHAT_TEMPLATE, 'clean_up_tokenization_spaces': False,
        'eos_token': '<|im_end|>', 'errors': 'replace', 'model_max_length': 64, 'pad_token': '<|endoftext|>',
        'split_special_tokens': False, 'tokenizer_class': 'Qwen2Tokenizer', 'unk_token': None,
    }


def write(path, obj, indent=None):
    with open(path, 'w', encoding='utf-8') as f:
        json.dump(obj, f, ensure_ascii=True, indent=indent)
        f.write('\n')


def main():
    vocab, merges = train()
    assert len(vocab) == N_BPE and max(vocab.values()) == N_BPE - 1 and max(SPECIAL.values()) < MODEL_VOCAB
    ranks = {m: r for r, m in enumerate(merges)}
    # the reference must reproduce the training text's own segmentation into whole vocabulary tokens
    assert all(s in vocab for p in pretokens(TRAIN) for s in bpe(p, ranks))
    id_bytes = {i: bytes(U2B[c] for c in s) for s, i in vocab.items()}
    id_bytes.update({i: s.encode('utf-8') for s, i in SPECIAL.items()})
    for s, i in vocab.items():  # round trip of every token through the byte map
        assert ''.join(B2U[b] for b in id_bytes[i]) == s

    env = environment()
    template = env.from_string(CHAT_TEMPLATE)
    conversations = []
    for name, messages in CONVERSATIONS.items():
        for gen in (True, False):
            text = template.render(messages=messages, tools=None, documents=None, add_generation_prompt=gen, eos_token='<|im_end|>')
            ids = encode(text, vocab, ranks, special=True)
            assert bytes(b for i in ids for b in id_bytes[i]).decode('utf-8') == unicodedata.normalize('NFC', text)
            conversations.append({'conversation': name, 'messages': messages, 'add_generation_prompt': gen, 'text': text, 'ids': ids})
    prompts = [{'text': p, 'ids': encode(p, vocab, ranks, special=False)} for p in PROMPTS]

    os.makedirs(CKPT, exist_ok=True)
    write(os.path.join(CKPT, 'tokenizer.json'), tokenizer_json(vocab, merges))
    write(os.path.join(CKPT, 'tokenizer_config.json'), tokenizer_config(), indent=2)
    write(GOLDEN, {
        'generator': f'tools/make_fixture_tokenizer.py, jinja2 {jinja2.__version__}; ids from its own BPE (no HF tokenizers)',
        'model': 'test/fixtures/ckpt/qwen3-f16', 'template': CHAT_TEMPLATE, 'special': SPECIAL,
        'conversations': conversations, 'prompts': prompts,
        # every id's bytes as hex (null: no token), for decoding generated ids independently
        'token_bytes': [id_bytes[i].hex() if i in id_bytes else None for i in range(MODEL_VOCAB)],
    }, indent=0)
    longest = max(len(c['ids']) for c in conversations)
    print(f'{len(vocab)} BPE ids ({len(merges)} merges), specials {SPECIAL}; {len(conversations)} conversations, longest {longest} ids')


if __name__ == '__main__':
    main()
