// Paged KV cache bookkeeping (pure logic, no tensors): a pool of fixed-size blocks with reference
// counts and a prefix cache, and a block table per sequence slot that lives in a SharedArrayBuffer
// so that stage workers can map token positions to cache slots without messages.
//
// Prefix cache (vLLM v1 block_pool.py): a full block of computed tokens may carry a hash (its
// place in a hash chain, kv/prefix-hash.ts) and is then findable by it. Blocks are shared by
// reference count; a block whose count drops to 0 is free, but a hashed one keeps its rows and
// hash until it is reused: free blocks are taken unhashed first (FIFO), then hashed ones least
// recently freed first (LRU by logical order, never a clock), which is when the hash is dropped.
//
// Invariants: a sequence's table only grows until the sequence is released (append-only), so
// slots already handed to workers never move; a block with ref count > 0 is never handed out.
import { KvCacheFullError } from '../errors.js';

export class BlockPool {
  private readonly refs: Int32Array;
  private readonly hashes: Array<string | null>;
  private readonly byHash = new Map<string, number>();
  // Sets iterate in insertion order: first = next to reuse; delete is O(1) for a hit on a free block
  private readonly freePlain = new Set<number>();
  private readonly freeCached = new Set<number>();

  constructor(readonly nBlocks: number) {
    this.refs = new Int32Array(nBlocks);
    this.hashes = new Array<string | null>(nBlocks).fill(null);
    for (let b = 0; b < nBlocks; b++) this.freePlain.add(b);
  }

  get numFree(): number { return this.freePlain.size + this.freeCached.size; }
  /** Blocks that are free but still hold a findable prefix. */
  get numCachedFree(): number { return this.freeCached.size; }
  refCount(b: number): number { return this.refs[b]; }
  hashOf(b: number): string | null { return this.hashes[b]; }

  /** Takes a free block (ref count 1), evicting the least recently freed cached one when no plain block is left. */
  allocate(): number {
    const b = first(this.freePlain) ?? first(this.freeCached);
    if (b === undefined) throw new KvCacheFullError(`KV cache has no free block (all ${this.nBlocks} in use)`);
    this.freePlain.delete(b);
    if (this.freeCached.delete(b)) this.byHash.delete(this.hashes[b]!);
    this.hashes[b] = null;
    this.refs[b] = 1;
    return b;
  }

  /** Another user of block b (a prefix hit or a fork); a free block leaves the free queues. */
  share(b: number): void {
    if (this.refs[b] === 0 && !this.freeCached.delete(b) && !this.freePlain.delete(b)) {
      throw new KvCacheFullError(`block ${b} is neither in use nor free`);
    }
    this.refs[b]++;
  }

  /** Drops one reference to each block; a block whose last user leaves becomes free (cached if hashed). */
  release(ids: Iterable<number>): void {
    for (const b of ids) {
      if (this.refs[b] <= 0) throw new KvCacheFullError(`block ${b} released more often than taken`);
      if (--this.refs[b] > 0) continue;
      if (this.hashes[b] !== null) this.freeCached.add(b);
      else this.freePlain.add(b);
    }
  }

  /** The block holding the prefix with this hash, if still cached. */
  lookup(hash: string): number | undefined { return this.byHash.get(hash); }

  /** Makes a full, computed block findable; false when another block already holds that prefix (it stays unhashed). */
  register(b: number, hash: string): boolean {
    if (this.byHash.has(hash) || this.hashes[b] !== null) return false;
    this.byHash.set(hash, b);
    this.hashes[b] = hash;
    return true;
  }
}

function first(s: Set<number>): number | undefined {
  for (const b of s) return b;
  return undefined;
}

export class BlockTables {
  readonly buffer: SharedArrayBuffer;
  readonly table: Int32Array;              // [maxSeqs, maxBlocksPerSeq] block ids, -1 = none
  private readonly counts: number[];
  private readonly freeSeqs: number[] = [];

  constructor(readonly pool: BlockPool, readonly blockSize: number, readonly maxSeqs: number, readonly maxBlocksPerSeq: number) {
    this.buffer = new SharedArrayBuffer(maxSeqs * maxBlocksPerSeq * 4);
    this.table = new Int32Array(this.buffer).fill(-1);
    this.counts = new Array<number>(maxSeqs).fill(0);
    for (let s = 0; s < maxSeqs; s++) this.freeSeqs.push(s);
  }

  get numFreeSeqs(): number { return this.freeSeqs.length; }

  /** Takes a free sequence slot (row of the table). */
  acquireSeq(): number {
    const s = this.freeSeqs.shift();
    if (s === undefined) throw new KvCacheFullError(`no free sequence slot (max ${this.maxSeqs})`);
    return s;
  }

  /** Blocks still to allocate for sequence `s` to hold `nTokens` tokens. */
  blocksNeeded(s: number, nTokens: number): number {
    return Math.max(0, Math.ceil(nTokens / this.blockSize) - this.counts[s]);
  }

  /** Blocks in sequence `s`'s table. */
  numBlocks(s: number): number { return this.counts[s]; }

  /** Block id of the i-th block of sequence `s`. */
  blockAt(s: number, i: number): number {
    if (i >= this.counts[s]) throw new KvCacheFullError(`sequence slot ${s} has ${this.counts[s]} blocks, not ${i + 1}`);
    return this.table[s * this.maxBlocksPerSeq + i];
  }

  /** Appends blocks another sequence (or the prefix cache) holds to an empty row: shared, not copied. */
  appendShared(s: number, blocks: readonly number[]): void {
    if (this.counts[s] + blocks.length > this.maxBlocksPerSeq) {
      throw new KvCacheFullError(`sequence slot ${s} cannot hold ${this.counts[s] + blocks.length} blocks (max ${this.maxBlocksPerSeq})`);
    }
    for (const b of blocks) {
      this.pool.share(b);
      this.table[s * this.maxBlocksPerSeq + this.counts[s]++] = b;
    }
  }

  /** Grows sequence `s` to hold `nTokens` tokens; all-or-nothing (throws KvCacheFullError). */
  reserve(s: number, nTokens: number): void {
    const need = this.blocksNeeded(s, nTokens);
    if (this.counts[s] + need > this.maxBlocksPerSeq) {
      throw new KvCacheFullError(`sequence needs ${nTokens} tokens, more than the ${this.maxBlocksPerSeq * this.blockSize} a block table holds`);
    }
    if (need > this.pool.numFree) {
      throw new KvCacheFullError(`KV cache needs ${need} more blocks of ${this.blockSize} tokens, ${this.pool.numFree} free`);
    }
    for (let i = 0; i < need; i++) this.table[s * this.maxBlocksPerSeq + this.counts[s]++] = this.pool.allocate();
  }

  /** Drops the sequence's references to its blocks (last block first: tails are evicted before heads) and frees its slot. */
  releaseSeq(s: number): void {
    const row = this.table.subarray(s * this.maxBlocksPerSeq, s * this.maxBlocksPerSeq + this.counts[s]);
    this.pool.release(Array.from(row).reverse());
    row.fill(-1);
    this.counts[s] = 0;
    this.freeSeqs.push(s);
  }

  /** Cache slot of position `pos` of sequence `s`. */
  slot(s: number, pos: number): number {
    const b = this.table[s * this.maxBlocksPerSeq + Math.floor(pos / this.blockSize)];
    if (b < 0) throw new KvCacheFullError(`position ${pos} of sequence slot ${s} has no KV block`);
    return b * this.blockSize + (pos % this.blockSize);
  }
}
