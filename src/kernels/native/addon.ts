// Loads the compiled Node-API addon (native/*.cc → build/Release/pipegpt_native.node, built
// by tools/build-native.mjs at install). Never throws: loadAddon() returns the reason it cannot
// load (disabled, not built, built for another platform, load error). Context-aware, so it loads in
// every worker thread; it holds no JS state.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { KernelSet, KvCache } from '../names.js';

/**
 * The addon's exports: the KernelSet ops as they are, except attention's and rope's arguments
 * passed positionally. The SIMD path is chosen once at load (CPU features; PIPEGPT_NATIVE_SIMD=portable |
 * avx2-fma | avx512-vnni | amx-int8 | amx-int8-sim forces that path where the CPU has it) and can be changed per thread with setSimd.
 */
export type NativeAddon = Omit<KernelSet, 'attention' | 'rope'> & {
  /** The path picked at load for the whole process. */
  simd: NativeSimdPath;
  arch: string;
  /** madvise(MADV_HUGEPAGE) on the 2 MiB-aligned part of the view; returns the bytes advised. */
  hugePages(view: Uint8Array): number;
  mallocThreshold(bytes: number): boolean;
  /**
   * Runs this thread's later calls on a path ('default' = the one picked at load); returns the
   * path now in use. Throws for a path this CPU lacks. For tests: other threads are unaffected.
   */
  setSimd(path: NativeSimdPath | 'default'): NativeSimdPath;
  /** Load time: wq [O, I], ws [O, ceil(I/32)] ← the rows of src [O, I] (f32, or 16-bit widened exactly), quantized as quantizeQ8 does; the index of the first NaN / ±Infinity in src, else -1; several threads. */
  quantizeRowsQ8From(wq: Int8Array, ws: Float32Array, src: Float32Array | Uint16Array, kind: 'f32' | 'bf16' | 'f16', I: number, O: number): number;
  /** Load time: rows [i0, i0 + R) of a linear [I, O] (src [R, O], f32 or 16-bit as `kind`; i0 a multiple of 32) into its columns' q8 rows wq [O, I], ws, as quantizeQ8 of the transposed matrix gives them; the index in src of the first NaN / ±Infinity, else -1. */
  quantizeColsBandQ8(wq: Int8Array, ws: Float32Array, src: Float32Array | Uint16Array, kind: 'f32' | 'bf16' | 'f16', I: number, O: number, i0: number): number;
  /** Load time: index of the first NaN / ±Infinity in a[from, to), else -1. */
  firstNonFinite(a: Float32Array, from: number, to: number): number;
  /** Load time: dst [inp, O] columns [col, col + out) ← src [out, inp] transposed; several threads. */
  transposeInto(dst: Float32Array, src: Float32Array, out: number, inp: number, O: number, col: number): void;
  /** transposeInto on 16-bit values. */
  transpose16Into(dst: Uint16Array, src: Uint16Array, out: number, inp: number, O: number, col: number): void;
  /** Load time: index of the first ±Infinity / NaN among 16-bit values of `kind`, else -1. */
  firstNonFinite16(a: Uint16Array, kind: 'bf16' | 'f16'): number;
  /** Load time: dst[i] = the exact f32 of the 16-bit src[i], as quant.ts widen16. */
  widen16(dst: Float32Array, src: Uint16Array, kind: 'bf16' | 'f16', len: number): void;
  /** Load time: dst[i] = src[i] rounded to nearest even to bf16 / f16 bits, as kernels/f16.ts toBf16 / toF16. */
  narrow16(dst: Uint16Array, src: Float32Array, kind: 'bf16' | 'f16', len: number): void;
  attention(out: Float32Array, qkv: Float32Array, kCache: KvCache, vCache: KvCache, seqIds: Int32Array,
    positions: Int32Array, blockTable: Int32Array, maxBlocksPerSeq: number, blockSize: number, n: number, nHead: number,
    nKvHead: number, headDim: number, window: number, scratch: Float32Array, h0?: number, h1?: number): void;
  rope(qkv: Float32Array, positions: Int32Array, cos: Float32Array, sin: Float32Array, n: number, nHead: number,
    nKvHead: number, headDim: number, qNorm: Float32Array | null, kNorm: Float32Array | null, eps: number, h0?: number, h1?: number): void;
};

export type NativeSimdPath = 'amx-int8' | 'avx512-vnni' | 'avx2-fma' | 'portable' | 'amx-int8-sim';

export const ADDON_RELATIVE_PATH = join('build', 'Release', 'pipegpt_native.node');

let loaded: NativeAddon | null = null;
let failure: string | null = null;

/** The repo/package root: the nearest ancestor of this file that holds package.json. */
function packageRoot(): string | null {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return null;
}

/** Loads the addon once per thread; returns null, or the reason it cannot be used here. */
export function loadAddon(): string | null {
  if (loaded) return null;
  if (failure) return failure;
  if (process.env.PIPEGPT_NATIVE === '0') return (failure = 'disabled by PIPEGPT_NATIVE=0');
  const root = packageRoot();
  if (!root) return (failure = 'package root not found');
  const file = join(root, ADDON_RELATIVE_PATH);
  if (!existsSync(file)) return (failure = `not built: ${ADDON_RELATIVE_PATH} missing (build it with: node tools/build-native.mjs --verbose)`);
  try {
    const mod = createRequire(import.meta.url)(file) as NativeAddon;
    if (typeof mod.matmul !== 'function' || typeof mod.simd !== 'string') return (failure = `${file} is not the pipegpt native addon`);
    loaded = mod;
    return null;
  } catch (e) {
    const msg = (e as Error).message.split('\n')[0];
    const hint = /ELF|wrong architecture|Mach-O|not a valid Win32/i.test(msg) ? ` (built for another platform than ${process.platform}-${process.arch}; rebuild it)` : '';
    return (failure = `load error: ${msg}${hint}`);
  }
}

/** The loaded addon; only called by kernels registered after loadAddon() succeeded. */
export function addon(): NativeAddon {
  if (!loaded) throw new Error(`native addon not loaded: ${loadAddon() ?? 'call loadNativeKernels() first'}`);
  return loaded;
}

/** The addon when it loads here, else null (load-time helpers fall back to TypeScript). */
export function addonOrNull(): NativeAddon | null {
  return loadAddon() === null ? addon() : null;
}
