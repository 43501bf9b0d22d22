// The single-threaded engine: one process holds the whole model, runs the flat ragged batch
// through the forward pass and samples. It is the reference the pipeline runtime must equal.
import { fileURLToPath } from 'node:url';
import { resolveBackend } from '../kernels/register-all.js';
import { kernelSet } from '../kernels/registry.js';
import type { ModelConfig } from '../model/config.js';
import { loadCheckpoint } from '../model/checkpoint.js';
import { forward, type ForwardContext } from '../model/forward.js';
import type { ModelWeights } from '../model/param-layout.js';
import { allocWorkspace } from '../model/workspace.js';
import { BlockPool, BlockTables } from '../kv/block-pool.js';
import { kvBytesPerToken, viewKvStore } from '../kv/kv-store.js';
import { Sampler } from '../sampling/sampler.js';
import { schedule } from '../scheduler/schedule.js';
import { sharedTokenizer, type Gpt2Tokenizer } from '../tokenizer/gpt2.js';
import { prepareRequest } from './prepare.js';
import { Sequence } from './sequence.js';
import type { Completion, EngineOptions, GenerateRequest } from './types.js';

const KV_BYTES_LIMIT = 1 << 30;

export class LocalEngine {
  readonly config: ModelConfig;
  readonly tok: Gpt2Tokenizer;
  readonly ctx: ForwardContext;
  readonly tables: BlockTables;
  readonly maxSeqs: number;
  readonly maxBatchedTokens: number;
  readonly backend: string;           // the kernel backend that actually runs
  private readonly sampler: Sampler;
  private readonly seed: number;

  constructor(weights: ModelWeights, opts: EngineOptions = {}) {
    const c = weights.layout.config;
    this.config = c;
    this.tok = sharedTokenizer();
    this.maxSeqs = opts.maxSeqs ?? 16;
    this.maxBatchedTokens = opts.maxBatchedTokens ?? 256;
    this.seed = opts.seed ?? 0;
    const blockSize = opts.blockSize ?? 16;
    const maxBlocksPerSeq = Math.ceil(c.nPositions / blockSize);
    const defaultTokens = Math.min(this.maxSeqs * c.nPositions, Math.floor(KV_BYTES_LIMIT / kvBytesPerToken(c)));
    // at least one full-context sequence must fit, or a long request could never run
    const nBlocks = Math.max(maxBlocksPerSeq, Math.ceil((opts.kvCacheTokens ?? defaultTokens) / blockSize));
    this.tables = new BlockTables(new BlockPool(nBlocks), blockSize, this.maxSeqs, maxBlocksPerSeq);
    this.backend = resolveBackend(opts.backend ?? 'auto');
    const maxLogitRows = Math.min(this.maxBatchedTokens, Math.max(this.maxSeqs, 64));
    this.ctx = {
      config: c, weights, kernels: kernelSet(this.backend),
      kv: viewKvStore(c, 0, c.nLayer, nBlocks, blockSize), blockTable: this.tables.table, maxBlocksPerSeq,
      ws: allocWorkspace(c, this.maxBatchedTokens, maxLogitRows),
    };
    this.sampler = new Sampler(c.vocabSize);
  }

  static open(modelDir: string, opts: EngineOptions = {}): LocalEngine {
    return new LocalEngine(loadCheckpoint(modelDir), opts);
  }

  /** Runs every request to completion; results come back in request order. */
  generate(requests: GenerateRequest[], onDone?: (c: Completion, index: number) => void): Completion[] {
    const out: Completion[] = new Array(requests.length);
    const pending = new Array<number>(requests.length).fill(0);
    const waiting: Sequence[] = [];
    requests.forEach((req, i) => {
      try {
        const p = prepareRequest(req, this.config, this.tok);
        out[i] = { id: req.id, prompt_token_ids: p.promptIds, choices: [], error: null };
        pending[i] = p.params.n;
        for (let k = 0; k < p.params.n; k++) {
          waiting.push(new Sequence(i, k, p.promptIds.length, p.promptIds, p.params, req.id, this.seed, this.tok, this.config.eosTokenId));
        }
      } catch (e) {
        out[i] = { id: req.id, prompt_token_ids: [], choices: [], error: (e as Error).message };
        onDone?.(out[i], i);
      }
    });
    const running: Sequence[] = [];
    while (waiting.length > 0 || running.length > 0) {
      this.admit(waiting, running);
      for (const s of this.step(running)) {
        this.tables.releaseSeq(s.slot);
        running.splice(running.indexOf(s), 1);
        const c = out[s.requestIndex];
        c.choices[s.choice] = s.toChoice();
        if (--pending[s.requestIndex] === 0) onDone?.(c, s.requestIndex);
      }
    }
    return out;
  }

  /** FCFS admission: a sequence joins when a slot and KV blocks for its whole length are free. */
  private admit(waiting: Sequence[], running: Sequence[]): void {
    while (waiting.length > 0 && this.tables.numFreeSeqs > 0) {
      const s = waiting[0];
      const total = s.promptLen + s.params.max_tokens;
      if (Math.ceil(total / this.tables.blockSize) > this.tables.pool.numFree) break;
      s.slot = this.tables.acquireSeq();
      this.tables.reserve(s.slot, total);
      running.push(waiting.shift()!);
    }
  }

  /** One forward step over the running sequences; returns those that finished. */
  private step(running: Sequence[]): Sequence[] {
    const ws = this.ctx.ws;
    const counts = schedule(running, { maxBatchedTokens: ws.maxTokens, maxLogitRows: ws.maxLogitRows });
    let n = 0;
    const sampling: Sequence[] = [];
    running.forEach((s, i) => {
      for (let j = 0; j < counts[i]; j++, n++) {
        const pos = s.numComputed + j;
        ws.tokens[n] = s.tokens[pos];
        ws.positions[n] = pos;
        ws.seqIds[n] = s.slot;
        ws.slots[n] = this.tables.slot(s.slot, pos);
        ws.needsLogits[n] = pos === s.numTokens - 1 ? 1 : 0;
      }
      s.numComputed += counts[i];
      if (counts[i] > 0 && s.numComputed === s.numTokens) sampling.push(s);
    });
    if (n === 0) return [];
    forward(this.ctx, n);
    const V = this.config.vocabSize;
    const finished: Sequence[] = [];
    sampling.forEach((s, m) => {
      s.append(this.sampler.sample(ws.logits, m * V, s.sampling));
      if (s.finish) finished.push(s);
    });
    return finished;
  }
}

/** The model shipped in models/, used when no --model is given. */
export const DEFAULT_MODEL_DIR = fileURLToPath(new URL('../../../models/kjv-gpt2-tiny', import.meta.url));
