// How the process holds its big memory. Transparent huge pages for the big SharedArrayBuffers
// (weights, KV cache), through the native addon's madvise(MADV_HUGEPAGE) when it is built; a no-op
// otherwise. Call it on a fresh buffer, before its first write. Why: a page fault then maps 2 MiB
// instead of 4 KiB. On this project's VM a first touch costs ~50 µs per 4 KiB page (host-side
// allocation): committing 1 GiB took 12–14 s in 4 KiB pages and 5 s in huge pages, and a
// GPT-2-small decode row touching fresh KV slots spent ~0.4 ms in page faults. Contents and
// results are unchanged. And malloc's mmap threshold (fixMallocThreshold, below).
import { addon, loadAddon } from './addon.js';

/** Bytes advised (0 without the addon, on other OSes, or for buffers under 2 MiB). */
export function adviseHugePages(buffer: SharedArrayBuffer): number {
  if (buffer.byteLength < 2 << 20 || loadAddon() !== null) return 0;
  return addon().hugePages(new Uint8Array(buffer));
}

/** A new SharedArrayBuffer of `bytes`, advised for huge pages before anything touches it. */
export function allocShared(bytes: number): SharedArrayBuffer {
  const buffer = new SharedArrayBuffer(bytes);
  adviseHugePages(buffer);
  return buffer;
}

/** glibc's initial mmap threshold: blocks this large get their own mapping, unmapped when freed. */
export const MALLOC_MMAP_THRESHOLD = 128 << 10;

/**
 * Keeps malloc from holding on to freed large blocks. glibc maps each block ≥ 128 KiB on its own,
 * but every time one is freed it raises that threshold to the block's size (up to 32 MiB), after
 * which the loader's multi-MiB read buffers come from the heap and stay resident once freed (the
 * heap is trimmed only above twice the threshold). Fixing the threshold at its initial value:
 * peak RSS of the GPT-2-small int8 bench job 372–379 → 357–361 MiB, f32 907–928 → 889–901 MiB.
 * Process-wide; called before weights are read. False without the addon or off glibc.
 */
export function fixMallocThreshold(): boolean {
  return loadAddon() === null && addon().mallocThreshold(MALLOC_MMAP_THRESHOLD);
}
