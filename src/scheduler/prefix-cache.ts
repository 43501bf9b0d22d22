// The scheduler's prefix-cache bookkeeping (vLLM v1 kv_cache_manager + SGLang's in-batch dedupe),
// pure like the scheduler: each sequence's block hashes (kv/prefix-hash.ts, extended as its
// tokens become known), how many of its blocks are registered, and which full blocks are being
// computed right now by whom, so a waiting sequence that needs the same block waits for it
// instead of computing it a second time.
import type { KvBlocks } from './scheduler.js';
import { extendHashes } from '../kv/prefix-hash.js';

/** What the prefix cache needs of a sequence: its known token ids. */
export interface PrefixSeq {
  readonly numTokens: number;
  readonly numComputed: number;
  readonly slot: number;
  readonly tokens?: readonly number[]; // without them a sequence neither hits nor fills the cache
}

export class PrefixCache<S extends PrefixSeq> {
  private readonly hashes = new WeakMap<S, string[]>();
  private readonly registered = new WeakMap<S, number>(); // leading blocks already findable (its own or hits)
  private readonly pending = new Map<string, S>();        // block key → the sequence computing it now

  constructor(private readonly kv: KvBlocks, private readonly root: string) {}

  private keys(s: S, upTo: number): string[] {
    let h = this.hashes.get(s);
    if (!h) this.hashes.set(s, (h = []));
    if (s.tokens) extendHashes(this.root, h, s.tokens, this.kv.blockSize, upTo);
    return h;
  }

  /** Cached blocks holding s's longest cached prefix: whole blocks, at most numTokens − 1 tokens (the last is computed for its logits). */
  findHit(s: S): number[] {
    const cap = Math.floor((s.numTokens - 1) / this.kv.blockSize);
    const keys = this.keys(s, cap * this.kv.blockSize), hit: number[] = [];
    for (let i = 0; i < cap; i++) {
      const b = this.kv.pool.lookup(keys[i]);
      if (b === undefined) break;
      hit.push(b);
    }
    return hit;
  }

  /** True when the block after s's hit of `hitBlocks` blocks is being computed by another sequence: s waits for it. */
  waitsFor(s: S, hitBlocks: number): boolean {
    if (!s.tokens || (hitBlocks + 1) * this.kv.blockSize > s.numTokens - 1) return false;
    const owner = this.pending.get(this.keys(s, (hitBlocks + 1) * this.kv.blockSize)[hitBlocks]);
    return owner !== undefined && owner !== s;
  }

  /** s was admitted holding `blocks` findable blocks (hits, or a fork's shared ones). */
  admitted(s: S, blocks: number): void {
    this.registered.set(s, blocks);
  }

  /** s computes up to nTokens in a step now: its full blocks of known tokens in that range are pending. */
  computing(s: S, nTokens: number): void {
    const keys = this.keys(s, nTokens), full = Math.floor(nTokens / this.kv.blockSize);
    for (let i = this.registered.get(s) ?? 0; i < full; i++) {
      if (this.kv.pool.lookup(keys[i]) === undefined && !this.pending.has(keys[i])) this.pending.set(keys[i], s);
    }
  }

  /** s's step returned: its full computed blocks become findable. */
  computed(s: S): void {
    const keys = this.keys(s, s.numComputed), full = Math.floor(s.numComputed / this.kv.blockSize);
    for (let i = this.registered.get(s) ?? 0; i < full; i++) {
      this.kv.pool.register(this.kv.blockAt(s.slot, i), keys[i]);
      if (this.pending.get(keys[i]) === s) this.pending.delete(keys[i]);
    }
    this.registered.set(s, Math.max(full, this.registered.get(s) ?? 0));
  }

  /** s gave its blocks back (finished, aborted, preempted): it computes nothing any more. */
  released(s: S): void {
    const keys = this.hashes.get(s) ?? [];
    for (let i = this.registered.get(s) ?? 0; i < keys.length; i++) if (this.pending.get(keys[i]) === s) this.pending.delete(keys[i]);
    this.registered.delete(s);
  }
}
