// The qwen3-f16 checkpoint's fixture tokenizer and its golden (tools/make_fixture_tokenizer.py):
// chat prompts rendered by Python Jinja2, ids from the tool's own BPE, and every id's bytes, so
// tests decode generated ids without the tokenizer under test.
import { readFileSync } from 'node:fs';
import { ckptDir, repoPath } from './paths.js';

export const QWEN3 = ckptDir('qwen3-f16');

export interface ChatGolden {
  template: string;
  special: Record<string, number>;
  conversations: Array<{ conversation: string; messages: Array<{ role: string; content: string }>; add_generation_prompt: boolean; text: string; ids: number[] }>;
  prompts: Array<{ text: string; ids: number[] }>;
  token_bytes: Array<string | null>;
}

export const golden: ChatGolden = JSON.parse(readFileSync(repoPath('test/fixtures/chat/qwen3-f16.json'), 'utf8'));

/** The golden conversation (with the generation prompt). */
export function conversation(name: string): ChatGolden['conversations'][number] {
  const c = golden.conversations.find((x) => x.conversation === name && x.add_generation_prompt);
  if (!c) throw new Error(`no golden conversation ${name}`);
  return c;
}

const SPECIAL = new Set(Object.values(golden.special));

/** Text of generated ids as vLLM shows it: special tokens skipped, bytes from the golden table. */
export function decodeRef(ids: readonly number[]): string {
  const bytes = ids.filter((id) => !SPECIAL.has(id)).flatMap((id) => [...Buffer.from(golden.token_bytes[id] ?? '', 'hex')]);
  return new TextDecoder().decode(Uint8Array.from(bytes));
}

/** One token's bytes from the golden table ([] for ids past the tokenizer). */
export const bytesRef = (id: number): number[] => [...Buffer.from(golden.token_bytes[id] ?? '', 'hex')];
