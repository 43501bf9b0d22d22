// Tests run compiled from dist/test/; fixtures live in the source tree.
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../../../', import.meta.url));
export const repoPath = (p: string): string => REPO + p;
export const CKPT_CASES = ['f32', 'f16-prefix', 'bf16-sharded'] as const;
export const ckptDir = (name: string): string => repoPath(`test/fixtures/ckpt/${name}`);
