// The hash chain of the prefix cache (vLLM v1 hash_block_tokens): block i of a sequence is keyed
// by H(key of block i-1, its token ids), so equal keys mean equal whole prefixes, and block i's
// rows (which depend only on those tokens and their positions: batch-invariant kernels) are
// interchangeable. The root is a FIXED seed plus the model's identity, never a random one: every
// run, worker layout and replay sees the same hits, and two models never share a block.
// SHA-256 because a collision would silently give a request another prompt's KV rows.
import { createHash } from 'node:crypto';

const SEED = 'pipegpt-prefix-cache-v1';

/** The parent key of a sequence's first block, for one model (one engine = one model). */
export function rootHash(modelId: string): string {
  return createHash('sha256').update(SEED).update('\0').update(modelId).digest('base64');
}

/** The key of a full block of `tokens` following the prefix keyed `parent`. */
export function blockHash(parent: string, tokens: ArrayLike<number>): string {
  return createHash('sha256').update(parent).update(Int32Array.from(tokens as ArrayLike<number>)).digest('base64');
}

/** Extends `hashes` (keys of the sequence's first hashes.length blocks) to every full block of `tokens`. */
export function extendHashes(root: string, hashes: string[], tokens: readonly number[], blockSize: number, upTo = tokens.length): void {
  const full = Math.floor(Math.min(upTo, tokens.length) / blockSize);
  for (let i = hashes.length; i < full; i++) {
    hashes.push(blockHash(i === 0 ? root : hashes[i - 1], tokens.slice(i * blockSize, (i + 1) * blockSize)));
  }
}
