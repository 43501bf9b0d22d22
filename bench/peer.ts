// Side by side with llama.cpp (issue #12): the same batch job (bench/peer-job.ts ≡ the peer's
// job.mjs: 32 prompts × 32 token ids, 64 greedy new tokens, EOS ignored) in fresh processes,
// pipegpt f32 / bf16 / int8 against llama.cpp (node-llama-cpp, installed outside the repo) f32 /
// f16 / q8_0 on one random checkpoint (--shape gpt2-small, smollm2-135m or smollm2-360m), interleaved,
// medians of --runs rounds. The peer gets GGUFs converted once: GPT-2 by the peer's hf2gguf.py, Llama
// by bench/llama2gguf.py (which imports the peer's hf2gguf.py for its generic parts); prompt ids are
// s mod min(50257, vocabulary) in both engines (a derived job-v<V>.mjs in the peer's folder).
//   node dist/bench/peer.js [--runs 5] [--configs pipegpt:int8,peer:q8_0] [--workers 2] [--new 64]
//                           [--peer-dir /tmp/llamacpp] [--shape gpt2-small|smollm2-135m|smollm2-360m] [--model DIR]
//                           [--out bench/results/peer.json]
// Only meaningful on an idle machine: ggml's threads busy-wait at every sync point, so any other
// load on the cores multiplies its step times (see the peer's README).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { randomCheckpoint } from './random-checkpoint.js';
import { median } from './stats.js';

const { values: a } = parseArgs({ options: {
  runs: { type: 'string', default: '5' }, configs: { type: 'string' }, workers: { type: 'string', default: '2' },
  new: { type: 'string', default: '64' }, 'peer-dir': { type: 'string', default: '/tmp/llamacpp' },
  shape: { type: 'string', default: 'gpt2-small' }, model: { type: 'string' }, out: { type: 'string', default: 'bench/results/peer.json' },
} });

/** What a config's command line needs: the checkpoint, its GGUF of a type, the peer's job script. */
interface Ctx { model: string; gguf: (t: string) => string; peerJob: string }
interface Config { name: string; args(x: Ctx): string[] }
const here = dirname(fileURLToPath(import.meta.url));
const peerDir = a['peer-dir']!;
// the source file: tsc copies no .py into dist/ (dist/bench/peer.js → bench/llama2gguf.py)
const LLAMA2GGUF = resolve(here, '..', '..', 'bench', 'llama2gguf.py');
const GPT2_VOCAB = 50257; // job.mjs's V: prompt ids are s mod min(50257, vocabulary), as in peer-job.ts
const pipegpt = (name: string, opts: string[], workers = a.workers!): Config => ({
  name: `pipegpt:${name}`, args: (x) => [join(here, 'peer-job.js'), '--model', x.model, ...opts, '--workers', workers, '--new', a.new!, '--warm'],
});
const peer = (type: string): Config => ({
  name: `peer:${type}`, args: (x) => [x.peerJob, a.workers!, '--model', x.gguf(type), '--new', a.new!],
});
const ALL: Config[] = [
  pipegpt('f32', ['--dtype', 'float32']), pipegpt('bf16', ['--dtype', 'bfloat16']), pipegpt('f16', ['--dtype', 'float16']),
  pipegpt('int8', ['--quantization', 'int8']), pipegpt('int8-kv16', ['--quantization', 'int8', '--kv-cache-dtype', 'float16']),
  // one worker, for the scaling pairs below (2 workers against 1 on the same job, interleaved)
  pipegpt('f32-w1', ['--dtype', 'float32'], '1'), pipegpt('int8-w1', ['--quantization', 'int8'], '1'),
  peer('f32'), peer('f16'), peer('q8_0'),
];
const DEFAULT = ['pipegpt:f32', 'pipegpt:bf16', 'pipegpt:int8', 'peer:f32', 'peer:f16', 'peer:q8_0'];
// the formats compared: same bytes per weight (bf16 and f16 are both 2 bytes; int8 and q8_0 are
// both int8 blocks of 32 with one scale per block)
// (pipegpt:int8's KV cache is q8 (auto with int8 weights); int8-kv16 keeps llama.cpp's default f16 cache)
// (…-w1: with --workers 2, the pair pipegpt:x / pipegpt:x-w1 is the speedup of 2 workers over 1)
const PAIRS = [['pipegpt:f32', 'peer:f32'], ['pipegpt:bf16', 'peer:f16'], ['pipegpt:f16', 'peer:f16'], ['pipegpt:int8', 'peer:q8_0'], ['pipegpt:int8-kv16', 'peer:q8_0'],
  ['pipegpt:f32', 'pipegpt:f32-w1'], ['pipegpt:int8', 'pipegpt:int8-w1']];

// Preloaded into every child: its peak RSS and CPU seconds at exit, measured the same way for
// both engines (job.mjs prints no RSS). The 'exit' event also fires on job.mjs's process.exit(0).
const EXIT_TAG = 'peer-bench-exit ';
const PRELOAD = 'data:text/javascript,' + encodeURIComponent(`process.on('exit', () => { const u = process.resourceUsage();
  process.stderr.write(${JSON.stringify(EXIT_TAG)} + JSON.stringify({ rss_mib: Math.round(u.maxRSS / 1024), cpu_s: (u.userCPUTime + u.systemCPUTime) / 1e6 }) + '\\n'); });`);

/** The configs asked for; the peer's only when it is installed and can convert the checkpoint. */
function selectConfigs(peerOk: boolean): Config[] {
  const names = a.configs ? a.configs.split(',') : DEFAULT;
  for (const n of names) if (!ALL.some((c) => c.name === n)) throw new Error(`unknown config "${n}" (known: ${ALL.map((c) => c.name).join(', ')})`);
  const out = ALL.filter((c) => names.includes(c.name) && (peerOk || !c.name.startsWith('peer:')));
  if (!out.length) throw new Error(`nothing to run: --configs ${names.join(',')} without the peer`);
  return out;
}

const modelConfig = (model: string) => JSON.parse(readFileSync(join(model, 'config.json'), 'utf8'));

/** The converter of a model_type to GGUF (argv before the model dir), or undefined. */
function converter(type: string): string[] | undefined {
  if (type === 'gpt2') return [join(peerDir, 'hf2gguf.py')];
  if (type === 'llama') return [LLAMA2GGUF, '--peer-dir', peerDir];
  return undefined;
}

/** Why the peer cannot run here, or null. */
function peerProblem(model: string): string | null {
  if (!existsSync(join(peerDir, 'node_modules', 'node-llama-cpp'))) {
    return `the llama.cpp peer is not installed in ${peerDir} (see bench/README.md): running pipegpt only`;
  }
  const type = modelConfig(model).model_type;
  if (!converter(type)) return `no GGUF converter for "${type}" (GPT-2: the peer's hf2gguf.py; Llama: bench/llama2gguf.py): running pipegpt only`;
  return null;
}

/** The checkpoint as GGUF of a type (f32, f16, q8_0), converted once into a cache beside the random
 *  checkpoints (not into --model's directory, which may not be ours); redone when the checkpoint or
 *  the converter is newer than the cached file. */
function gguf(model: string, type: string): string {
  const id = createHash('sha1').update(resolve(model)).digest('hex').slice(0, 8); // two dirs may share a basename
  const out = join(tmpdir(), 'pipegpt-bench', 'gguf', `${basename(model)}-${id}-${type}.gguf`);
  const conv = converter(modelConfig(model).model_type)!;
  const src = Math.max(statSync(join(model, 'config.json')).mtimeMs, statSync(conv[0]).mtimeMs);
  if (existsSync(out) && statSync(out).mtimeMs >= src) return out;
  mkdirSync(dirname(out), { recursive: true });
  process.stderr.write(`converting ${model} → ${out}\n`);
  const r = spawnSync('/usr/bin/python3', [...conv, model, out, '--outtype', type], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${basename(conv[0])} failed (${r.status}): ${r.stderr || r.error}`);
  return out;
}

/** The peer's job for this vocabulary: job.mjs itself for GPT-2's 50257, else a copy with only its V
 *  changed (prompt ids s mod V, like peer-job.ts), written in the peer's folder because it imports
 *  node-llama-cpp from there. */
function peerJobFor(vocab: number): string {
  const V = Math.min(GPT2_VOCAB, vocab), src = join(peerDir, 'job.mjs');
  if (V === GPT2_VOCAB) return src;
  const text = readFileSync(src, 'utf8'), line = /^const V = 50257\b/m;
  if (!line.test(text)) throw new Error(`${src} has no "const V = 50257" line to derive a job for vocabulary ${V} from: has the peer changed?`);
  const out = join(peerDir, `job-v${V}.mjs`);
  const derived = `// derived from job.mjs by pipegpt's bench/peer.ts: prompt token ids s mod ${V}\n${text.replace(line, `const V = ${V}`)}`;
  if (existsSync(out) && readFileSync(out, 'utf8') === derived) return out;
  try {
    writeFileSync(out, derived);
  } catch (e) {
    throw new Error(`cannot write ${out} (the peer's folder must be writable for a vocabulary other than GPT-2's): ${(e as Error).message}`);
  }
  return out;
}

type Row = Record<string, number | string | null>;

/** CPU ms all cores spent busy so far (os.cpus() times are per core, in ms). */
const busyMs = () => cpus().reduce((s, c) => s + c.times.user + c.times.nice + c.times.sys + c.times.irq, 0);

/** One fresh process of a config: its JSON line, plus the exit stats and the share of the machine
 *  that OTHER processes used meanwhile (busy CPU minus the child's own: the load average counts
 *  this benchmark's own threads, this does not). */
function runOnce(c: Config, x: Ctx): Row {
  const b0 = busyMs(), t0 = performance.now();
  const r = spawnSync(process.execPath, ['--import', PRELOAD, ...c.args(x)], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const wall = (performance.now() - t0) / 1000, b1 = busyMs();
  const line = r.stdout.split('\n').find((l) => l.startsWith('{') && l.includes('"gen_s"'));
  const exit = r.stderr.split('\n').find((l) => l.startsWith(EXIT_TAG));
  if (r.status !== 0 || !line || !exit) throw new Error(`${c.name} failed (${r.status}):\n${r.stderr.slice(-2000)}`);
  const job = JSON.parse(line), ex = JSON.parse(exit.slice(EXIT_TAG.length));
  const others = Math.max(0, ((b1 - b0) / 1000 - ex.cpu_s) / (wall * cpus().length));
  return { ...job, config: c.name, rss_exit_mib: ex.rss_mib, cpu_s: +ex.cpu_s.toFixed(2), others_cpu_pct: +(100 * others).toFixed(1), proc_tok_s: +(job.generated / job.wall_s).toFixed(1) };
}

const COLS: Array<[head: string, key: string, digits: number]> = [
  ['gen tok/s', 'gen_tok_s', 1], ['warm gen tok/s', 'gen_tok_s_warm', 1], ['process tok/s', 'proc_tok_s', 1], ['wall s', 'wall_s', 2],
  ['load s', 'load_s', 2], ['prefill s', 'prefill_s', 2], ['decode s', 'decode_s', 2], ['RSS MiB', 'rss_exit_mib', 0], ["others' CPU %", 'others_cpu_pct', 1],
];

/** Medians of every numeric column over one config's runs (null where the config has no such field). */
function medians(runs: Row[]): Row {
  const m: Row = { config: runs[0].config, variant: String(runs[0].kernel_path ?? runs[0].cpu_variant ?? '') };
  for (const [, k] of COLS) {
    const xs = runs.map((r) => r[k]).filter((x): x is number => typeof x === 'number');
    m[k] = xs.length ? median(xs) : null;
  }
  return m;
}

function table(head: string[], rows: string[][]): string {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => '| ' + r.map((c, i) => c.padEnd(w[i])).join(' | ') + ' |';
  return [line(head), line(w.map((n) => '-'.repeat(n))), ...rows.map(line)].join('\n');
}

const fmt = (x: number | string | null, d: number) => (typeof x === 'number' ? x.toFixed(d) : '—');

/** first / second for each pair present; warm_vs_gen is the first's second run against the second's first (pipegpt warm against the peer, which has no warm run), warm both second runs. */
function ratios(meds: Row[]): Row[] {
  const by = new Map(meds.map((m) => [m.config, m]));
  const q = (x: Row, y: Row, k: string, ky = k) => (typeof x[k] === 'number' && typeof y[ky] === 'number' ? +((x[k] as number) / (y[ky] as number)).toFixed(2) : null);
  return PAIRS.filter(([p, l]) => by.has(p) && by.has(l)).map(([p, l]) => {
    const x = by.get(p)!, y = by.get(l)!;
    return { pair: `${p} / ${l}`, gen: q(x, y, 'gen_tok_s'), warm_vs_gen: q(x, y, 'gen_tok_s_warm', 'gen_tok_s'), warm: q(x, y, 'gen_tok_s_warm'), process: q(x, y, 'proc_tok_s'), rss: q(x, y, 'rss_exit_mib') };
  });
}

function loadNote(when: string, load: number[], note = ''): string {
  const per = load[0] / cpus().length;
  const warn = per > 1 ? '\n  WARNING: load above 1 per core: ggml threads busy-wait, numbers on a loaded machine are meaningless' : '';
  return `load average ${when}: ${load.map((x) => x.toFixed(2)).join(' ')} (${cpus().length} cores)${note}${warn}`;
}

function main(): void {
  const model = a.model ?? randomCheckpoint(a.shape);
  const problem = peerProblem(model);
  if (problem) console.log(problem);
  const configs = selectConfigs(!problem);
  const cache = new Map<string, string>();
  const gg = (t: string) => cache.get(t) ?? cache.set(t, gguf(model, t)).get(t)!;
  const withPeer = configs.some((c) => c.name.startsWith('peer:'));
  for (const c of configs) if (c.name.startsWith('peer:')) gg(c.name.slice(5)); // convert before timing anything
  const ctx: Ctx = { model, gguf: gg, peerJob: withPeer ? peerJobFor(modelConfig(model).vocab_size ?? GPT2_VOCAB) : '' };
  const loadBefore = loadavg();
  console.log(`${cpus()[0]?.model}, node ${process.version}; ${loadNote('before', loadBefore)}`);
  const runs = new Map<string, Row[]>(configs.map((c) => [c.name, []]));
  // rounds interleave the configs so a slow drift of the machine hits all of them alike
  for (let r = 0; r < Number(a.runs); r++) {
    for (const c of configs) {
      const row = runOnce(c, ctx);
      runs.get(c.name)!.push(row);
      process.stderr.write(`run ${r + 1}, ${c.name}: gen ${row.gen_tok_s} tok/s, wall ${row.wall_s} s, others' CPU ${row.others_cpu_pct} %\n`);
    }
  }
  const loadAfter = loadavg();
  const meds = configs.map((c) => medians(runs.get(c.name)!));
  const rat = ratios(meds);
  console.log(`\n32 prompts × 32 tokens, ${a.new} greedy new tokens each (EOS ignored), ${a.workers} workers / threads, ${basename(model)}; median of ${a.runs} interleaved runs, each a fresh process`);
  console.log(table(['config', ...COLS.map((c) => c[0]), 'kernels'], meds.map((m) => [String(m.config), ...COLS.map(([, k, d]) => fmt(m[k], d)), String(m.variant)])));
  if (rat.length) {
    console.log('\npairs, first / second (> 1: the first faster or, for RSS, bigger)');
    console.log(table(['pair', 'gen tok/s', 'first warm / second gen', 'warm / warm', 'process tok/s', 'RSS'], rat.map((x) => [String(x.pair), fmt(x.gen, 2), fmt(x.warm_vs_gen, 2), fmt(x.warm, 2), fmt(x.process, 2), fmt(x.rss, 2)])));
  }
  console.log(`\n${loadNote('before', loadBefore)}\n${loadNote('after', loadAfter, `, counting this benchmark's own ${a.workers} threads`)}`);
  const maxOthers = Math.max(...[...runs.values()].flat().map((r) => r.others_cpu_pct as number));
  if (maxOthers > 10) console.log(`WARNING: other processes used up to ${maxOthers} % of the machine during a run: rerun on an idle machine`);
  mkdirSync(dirname(a.out!), { recursive: true });
  writeFileSync(a.out!, `${JSON.stringify({
    date: new Date().toISOString(), cpu: cpus()[0]?.model, cores: cpus().length, node: process.version, model: basename(model),
    job: { prompts: 32, prompt_len: 32, new_tokens: Number(a.new), workers: Number(a.workers) }, runs: Number(a.runs),
    loadavg_before: loadBefore, loadavg_after: loadAfter, medians: meds, ratios: rat, raw: Object.fromEntries(runs),
  }, null, 2)}\n`);
}

main();
