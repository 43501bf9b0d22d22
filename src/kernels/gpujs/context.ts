// One gpu.js `GPU` instance per thread (module state is per worker_thread) for the configured
// mode, plus the compiled-kernel cache. gpu.js kernels have a fixed output size, so kernels are
// cached by (op, shape) with the row count rounded up to a power of two (rows are independent, the
// padding rows are computed and dropped): a worker compiles each op a handful of times, not per step.
//
// Modes: auto | webgpu | headlessgl | webasm | cpu (env PIPEGPT_GPUJS_MODE or setGpujsMode()).
// `auto` = headlessgl when it creates a context in this thread, else webasm, else cpu; never
// webgpu: gpu.js's webgpu kernels return Promises and the KernelSet API is synchronous.
// gpu.js can fall back silently (GPU mode 'gpu'/'async', onRequestFallback → CPUKernel): every
// kernel call checks the class that really ran and throws when it is not the resolved mode.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';

export const GPUJS_MODES = ['auto', 'webgpu', 'headlessgl', 'webasm', 'cpu'] as const;
export type GpujsMode = (typeof GPUJS_MODES)[number];
export type GpujsActualMode = Exclude<GpujsMode, 'auto'>;

/** The slice of gpu.js's API used here (gpu.js ships its own d.ts, but typed loosely for `this`). */
export interface GpujsKernel {
  (...args: unknown[]): unknown;
  kernel?: { constructor: { mode?: string; name: string } };
  fallbackReason?: string | null;
  destroy?: (removeCanvasReferences?: boolean) => void;
}
interface GpujsGPU {
  mode: string;
  Kernel: { mode: string; name: string } | null;
  createKernel(source: string, settings: Record<string, unknown>): GpujsKernel;
  destroy(): void | Promise<void>;
}
interface GpujsModule {
  GPU: { new (settings: { mode: string }): GpujsGPU; isHeadlessGLSupported: boolean; isWebAssemblySupported: boolean; isWebGPUSupported: boolean };
  input(value: Float32Array | Int32Array, size: number[]): unknown;
  WebAssemblyKernel?: { isSIMDSupported?: boolean };
}

const require = createRequire(import.meta.url);
let gpujsModule: GpujsModule | null = null;
let gpujsLoadError: string | null = null;

/** gpu.js itself (CommonJS), loaded on first use so that importing this file costs nothing. */
export function gpujs(): GpujsModule {
  if (gpujsModule) return gpujsModule;
  if (gpujsLoadError) throw new Error(gpujsLoadError);
  try {
    gpujsModule = require('gpu.js') as GpujsModule;
    return gpujsModule;
  } catch (e) {
    gpujsLoadError = `gpu.js is not installed or failed to load: ${(e as Error).message.split('\n')[0]}`;
    throw new Error(gpujsLoadError);
  }
}

function isMode(m: string): m is GpujsMode {
  return (GPUJS_MODES as readonly string[]).includes(m);
}

let requested: GpujsMode = 'auto';
{
  const env = process.env.PIPEGPT_GPUJS_MODE;
  if (env !== undefined && env !== '') requested = isMode(env) ? env : (env as GpujsMode); // validated on first use
}

interface State { gpu: GpujsGPU; mode: GpujsActualMode; kernels: Map<string, GpujsKernel> }
let state: State | null = null;

/** Why headless-gl cannot create a context in this thread, or null when it can. */
export function headlessglUnavailableReason(): string | null {
  const { GPU } = gpujs();
  if (GPU.isHeadlessGLSupported) return null;
  let gl: unknown;
  try {
    gl = require('gl');
  } catch (e) {
    const msg = (e as Error).message.split('\n')[0];
    if (/did not self-register/.test(msg)) {
      return `the headless-gl addon (gl) is not context-aware: it loads in only one thread per process and another thread already loaded it (${msg})`;
    }
    return `the optional dependency "gl" (headless-gl) is not built/installed: ${msg}`;
  }
  void gl;
  const display = process.env.DISPLAY;
  return display
    ? `headless-gl could not create a WebGL context on DISPLAY=${display}`
    : 'headless-gl could not create a WebGL context: on Linux it renders through GLX and needs an X display (DISPLAY is unset; run under xvfb-run or start Xvfb)';
}

/** Why gpu.js's webgpu mode cannot serve the synchronous KernelSet (always non-null). */
export function webgpuUnavailableReason(): string {
  const sync = 'gpu.js webgpu kernels are async-only (every call returns a Promise) and the KernelSet API is synchronous, so webgpu cannot serve it';
  let avail: string;
  try {
    require('webgpu');
    avail = gpujs().GPU.isWebGPUSupported ? 'navigator.gpu is present' : 'the Dawn addon loads but navigator.gpu is not installed';
  } catch (e) {
    avail = `and the Dawn addon (npm "webgpu") does not load here: ${(e as Error).message.split('\n')[0]}`;
  }
  return `${sync}; ${avail}`;
}

function resolveMode(m: GpujsMode): GpujsActualMode {
  if (!isMode(m)) throw new Error(`gpu.js mode "${m}" is unknown (known: ${GPUJS_MODES.join(', ')})`);
  const { GPU } = gpujs();
  switch (m) {
    case 'webgpu':
      throw new Error(`gpu.js mode "webgpu" cannot be used: ${webgpuUnavailableReason()}`);
    case 'headlessgl': {
      const why = headlessglUnavailableReason();
      if (why) throw new Error(`gpu.js mode "headlessgl" cannot load: ${why}`);
      return 'headlessgl';
    }
    case 'webasm':
      if (!GPU.isWebAssemblySupported) throw new Error('gpu.js mode "webasm" cannot load: WebAssembly is not supported by this runtime');
      return 'webasm';
    case 'cpu':
      return 'cpu';
    case 'auto':
      if (GPU.isHeadlessGLSupported) return 'headlessgl';
      if (GPU.isWebAssemblySupported) return 'webasm';
      return 'cpu';
  }
}

function destroyState(): void {
  if (!state) return;
  for (const k of state.kernels.values()) {
    try { k.destroy?.(); } catch { /* best effort */ }
  }
  state = null;
}

/**
 * Selects the gpu.js mode for this thread; throws naming the mode and why when it cannot load.
 * Drops the kernels compiled for a previous mode.
 */
export function setGpujsMode(mode: GpujsMode): GpujsActualMode {
  const actual = resolveMode(mode);
  if (state?.mode !== actual) destroyState();
  requested = mode;
  return ensure().mode;
}

export function gpujsRequestedMode(): GpujsMode {
  return requested;
}

function ensure(): State {
  if (state) return state;
  const mode = resolveMode(requested);
  const { GPU } = gpujs();
  const gpu = new GPU({ mode });
  const ran = modeOfClass(gpu.Kernel?.name);
  if (ran !== mode) throw new Error(`gpu.js was asked for mode "${mode}" but chose ${gpu.Kernel?.name ?? 'nothing'}`);
  state = { gpu, mode, kernels: new Map() };
  return state;
}

/** The gpu.js mode this thread's kernels run in (resolving `auto`); throws when it cannot load. */
export function gpujsActualMode(): GpujsActualMode {
  return ensure().mode;
}

/** Is this mode on a GPU? headless-gl counts only when the GL driver mapped is a hardware one. */
export function glDriverKind(): 'hardware' | 'software' | 'unknown' {
  let maps: string;
  try {
    maps = readFileSync('/proc/self/maps', 'utf8');
  } catch {
    return 'unknown';
  }
  if (/(swrast|kms_swrast|llvmpipe|softpipe|swiftshader)/i.test(maps)) return 'software';
  if (/(libGLX_nvidia|libnvidia-glcore|dri\/(radeonsi|iris|i965|crocus|nouveau|r600|r300|zink|d3d12|virtio_gpu)_dri)/.test(maps)) return 'hardware';
  return 'unknown';
}

/** True when gpujs runs on a real GPU here (so `auto` may prefer it over the CPU backends). */
export function gpujsPreferred(): boolean {
  try {
    const mode = gpujsActualMode();
    return mode === 'headlessgl' && glDriverKind() === 'hardware';
  } catch {
    return false;
  }
}

/**
 * The mode a gpu.js kernel class really runs in. By class, not the static `mode` getter: gpu.js's
 * HeadlessGLKernel inherits WebGLKernel's mode 'gpu', which would hide headless-gl vs webgl.
 */
export function modeOfClass(name: string | undefined): string {
  switch (name) {
    case 'HeadlessGLKernel': return 'headlessgl';
    case 'WebAssemblyKernel': return 'webasm';
    case 'CPUKernel': return 'cpu';
    case 'WebGPUKernel': return 'webgpu';
    case 'WebGLKernel': return 'webgl';
    case 'WebGL2Kernel': return 'webgl2';
    default: return `unknown (${name ?? 'none'})`;
  }
}

const LOOP_MAX = 1 << 20;

/**
 * The kernel for `key`, compiled once per thread. `source` is a gpu.js kernel function as a string
 * (its `this.thread`/`this.constants` are gpu.js's); output is 1-D.
 */
export function kernelFor(key: string, source: string, output: number, constants: Record<string, number>): GpujsKernel {
  const s = ensure();
  const full = `${s.mode}|${key}`;
  let k = s.kernels.get(full);
  if (!k) {
    k = s.gpu.createKernel(source, {
      output: [output],
      constants,
      loopMaxIterations: LOOP_MAX,
      precision: 'single',
      tactic: 'precision',
      dynamicOutput: false,
      dynamicArguments: false,
    });
    s.kernels.set(full, k);
  }
  return k;
}

/** Runs a kernel and returns its 1-D result, refusing a silent fallback to another mode. */
export function runKernel(k: GpujsKernel, ...args: unknown[]): Float32Array {
  const r = k(...args);
  const s = ensure();
  const ran = modeOfClass(k.kernel?.constructor.name);
  if (ran !== s.mode) {
    throw new Error(`gpu.js fell back from mode "${s.mode}" to ${k.kernel?.constructor.name ?? 'an unknown kernel class'}${k.fallbackReason ? `: ${k.fallbackReason}` : ''}`);
  }
  if (r instanceof Promise) throw new Error(`gpu.js mode "${s.mode}" returned a Promise; the KernelSet API is synchronous`);
  if (!(r instanceof Float32Array)) throw new Error(`gpu.js mode "${s.mode}" returned ${Object.prototype.toString.call(r)}, expected a Float32Array`);
  return r;
}

/** A 2-D view [w columns, h rows] of `a` for gpu.js (indexed a[row][col] in kernels). */
export function as2d(a: Float32Array | Int32Array, w: number, h: number): unknown {
  const v = a.length === w * h ? a : a.subarray(0, w * h);
  return gpujs().input(v, [w, h]);
}

/** Smallest power of two ≥ n (≥ 1): the row-count bucket kernels are compiled for. */
export function bucket(n: number): number {
  let b = 1;
  while (b < n) b *= 2;
  return b;
}

const staging = new Map<string, Float32Array | Int32Array>();

/** A reusable zero-padded copy of the first `len` values of `src` in a buffer of `size` values. */
export function padded<T extends Float32Array | Int32Array>(name: string, src: T, len: number, size: number, fill = 0): T {
  const key = `${name}|${src instanceof Int32Array ? 'i' : 'f'}|${size}`;
  let buf = staging.get(key) as T | undefined;
  if (!buf) {
    buf = (src instanceof Int32Array ? new Int32Array(size) : new Float32Array(size)) as T;
    staging.set(key, buf);
  }
  buf.set(src.subarray(0, len));
  buf.fill(fill, len);
  return buf;
}

/**
 * gpu.js kernel prologue: splits the 1-D thread id into row r and column c of a `W`-wide row
 * (float division, corrected so it is exact for ids < 2^24 on every backend).
 */
export function rowCol(W: string): string {
  return `let r = Math.floor(this.thread.x / ${W});
  let c = this.thread.x - r * ${W};
  if (c < 0) { r = r - 1; c = c + ${W}; }
  if (c >= ${W}) { r = r + 1; c = c - ${W}; }`;
}

/** Copies an elementwise result `r` into `out`: all `len` values, or columns [j0, j1) of each row of W. */
export function copyColumns(out: Float32Array, r: Float32Array, len: number, W: number, j0: number, j1: number): void {
  if (j0 === 0 && j1 === W) { out.set(r.subarray(0, len)); return; }
  for (let o = 0; o + W <= len && W > 0; o += W) out.set(r.subarray(o + j0, o + j1), o + j0);
}

/** Number of kernels compiled in this thread (for tests/benchmarks). */
export function compiledKernelCount(): number {
  return state ? state.kernels.size : 0;
}
