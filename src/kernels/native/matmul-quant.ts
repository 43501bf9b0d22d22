// Native matmulQ8 and matmul16 (native/quant.cc): Q8 block dots by the path (vpdpbusd, maddubs or
// plain C++), the float combination shared by every path; 16-bit weights widened into f32 column
// blocks for the path's f32 GEMM.
import type { KernelSet } from '../names.js';
import { addon } from './addon.js';

export const matmulQ8: KernelSet['matmulQ8'] = (out, inp, wq, ws, bias, n, I, O, j0, j1) => addon().matmulQ8(out, inp, wq, ws, bias, n, I, O, j0, j1);
export const matmul16: KernelSet['matmul16'] = (out, inp, w, kind, bias, n, I, O, j0, j1) => addon().matmul16(out, inp, w, kind, bias, n, I, O, j0, j1);
export const quantizeRowsQ8: KernelSet['quantizeRowsQ8'] = (xq, xd, inp, n, I) => addon().quantizeRowsQ8(xq, xd, inp, n, I);
export const matmulQ8Rows: KernelSet['matmulQ8Rows'] = (out, xq, xd, wq, ws, bias, n, I, O, j0, j1) => addon().matmulQ8Rows(out, xq, xd, wq, ws, bias, n, I, O, j0, j1);
