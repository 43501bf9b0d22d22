// Tests run compiled from dist/test/; fixtures live in the source tree.
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../../../', import.meta.url));
export const repoPath = (p: string): string => REPO + p;
export const CKPT_CASES = ['f32', 'f16-prefix', 'bf16-sharded'] as const;
// Llama-family fixtures (llama, mistral, qwen2, qwen3) from tools/make_golden_llama.py; same golden.json format.
// Kept apart from CKPT_CASES, whose tests open them with the GPT-2 loader.
export const LLAMA_CASES = [
  'llama-smollm2', 'qwen2-bf16-sharded', 'qwen3-f16', 'llama32-rope-llama3', 'llama3-rope-bands',
  'mistral-window', 'tinyllama-linear',
] as const;
export const ckptDir = (name: string): string => repoPath(`test/fixtures/ckpt/${name}`);
