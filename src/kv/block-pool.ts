// Paged KV cache bookkeeping (pure logic, no tensors): a pool of fixed-size blocks with a FIFO
// free list, and a block table per sequence slot that lives in a SharedArrayBuffer so that stage
// workers can map token positions to cache slots without messages.
//
// Invariants: a block id is owned by at most one sequence; a sequence's table only grows until
// the sequence is released (append-only), so slots already handed to workers never move.
import { KvCacheFullError } from '../errors.js';

export class BlockPool {
  private free: number[] = [];
  constructor(readonly nBlocks: number) {
    for (let b = 0; b < nBlocks; b++) this.free.push(b);
  }
  get numFree(): number { return this.free.length; }
  allocate(): number {
    const b = this.free.shift();
    if (b === undefined) throw new KvCacheFullError(`KV cache has no free block (all ${this.nBlocks} in use)`);
    return b;
  }
  release(ids: Iterable<number>): void {
    for (const b of ids) this.free.push(b);
  }
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

  /** Frees the sequence's blocks and its slot. */
  releaseSeq(s: number): void {
    const row = this.table.subarray(s * this.maxBlocksPerSeq, s * this.maxBlocksPerSeq + this.counts[s]);
    this.pool.release(row);
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
