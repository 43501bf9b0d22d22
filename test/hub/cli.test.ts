// The command line against the local test hub: `run --model org/name` gives the local directory's
// output and downloads once; `pull` killed mid-download resumes with a Range request; two pulls
// at once share one download; `models` lists the cache; refusals exit 2 without a stack.
// Children are spawned asynchronously: the test hub lives in this process's event loop.
import test from 'ava';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { resolveModel } from '../../src/hub/index.js';
import { COMMIT, repoFromDir } from '../helpers/hub-server.js';
import { ckptDir } from '../helpers/paths.js';
import { BIN, idPrompts, records, tmp, write } from '../job/_helpers.js';
import { FOLDER, REPO, setup, tree, type Setup } from './_hub.js';

const F32 = ckptDir('f32');
const WEIGHTS = repoFromDir(F32).files.get('model.safetensors')!;
const BLOB = (s: Setup) => join(s.cache, FOLDER, 'blobs', WEIGHTS.sha256);

// the user's own HF settings must not leak into the children
const clean = { HF_TOKEN: '', HUGGING_FACE_HUB_TOKEN: '', HF_HUB_OFFLINE: '', HF_TOKEN_PATH: '', HUGGINGFACE_HUB_CACHE: '' };

function start(s: Setup, args: string[], extra: NodeJS.ProcessEnv = {}): ChildProcess {
  return spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...clean, ...s.env, ...extra }, stdio: ['ignore', 'pipe', 'pipe'] });
}

function done(child: ChildProcess): Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }> {
  let stdout = '', stderr = '';
  child.stdout?.on('data', (d: Buffer) => { stdout += d.toString(); });
  child.stderr?.on('data', (d: Buffer) => { stderr += d.toString(); });
  // 'close', not 'exit': exit can fire before the child's stdio is drained (seen under load: an empty stderr)
  return new Promise((r) => child.on('close', (code, signal) => r({ code, signal, stdout, stderr })));
}

const cli = (s: Setup, ...args: string[]) => done(start(s, args));

test('run --model org/name: same output as the local directory; downloads once, then cache only; models lists it', async (t) => {
  const s = await setup();
  try {
    const dir = tmp('hub-run');
    const input = write(dir, 'in.jsonl', idPrompts(6, { max_tokens: 6, temperature: 0 }));
    const local = await cli(s, 'run', '--model', F32, '-i', input, '-o', join(dir, 'local.jsonl'), '--quiet');
    t.is(local.code, 0, local.stderr);
    const hub = await cli(s, 'run', '--model', REPO, '-i', input, '-o', join(dir, 'hub.jsonl'), '--quiet');
    t.is(hub.code, 0, hub.stderr);
    const choices = (f: string) => new Map(records(join(dir, f)).map((r) => [r.custom_id, JSON.stringify(r.response?.body.choices)]));
    t.deepEqual(choices('hub.jsonl'), choices('local.jsonl'));
    t.is(choices('hub.jsonl').size, 6);
    t.is(records(join(dir, 'hub.jsonl'))[0].response?.body.model, REPO);
    const n = s.hub.log.length;
    t.is(s.hub.downloads().length, 2);
    const again = await cli(s, 'run', '--model', REPO, '-i', input, '-o', join(dir, 'hub2.jsonl'), '--quiet');
    t.is(again.code, 0, again.stderr);
    t.is(s.hub.log.length, n, 'the second run asks the hub nothing');
    const models = await cli(s, 'models');
    t.is(models.code, 0, models.stderr);
    const size = WEIGHTS.data.length + readFileSync(join(F32, 'config.json')).length;
    t.is(models.stdout, `${'model'.padEnd(REPO.length)}       size  revision\n${REPO}  ${(size / 1024).toFixed(1)} KiB  ${COMMIT.slice(0, 12)} (main)\n`);
    const json = JSON.parse((await cli(s, 'models', '--json')).stdout);
    t.like(json, { repo: REPO, size, revisions: [{ commit: COMMIT, refs: ['main'], files: 2 }] });
    // generate and inspect take hub ids too
    const gen = await cli(s, 'generate', '--model', REPO, '--prompt-ids', '1,2,3', '--max-tokens', '4', '--temperature', '0', '--json');
    const genLocal = await cli(s, 'generate', '--model', F32, '--prompt-ids', '1,2,3', '--max-tokens', '4', '--temperature', '0', '--json');
    t.is(gen.code, 0, gen.stderr);
    t.is(gen.stdout, genLocal.stdout);
    const ins = await cli(s, 'inspect', '--model', REPO, '--json');
    t.is(JSON.parse(ins.stdout).model, REPO);
    t.is(s.hub.log.length, n);
  } finally {
    await s.hub.stop();
  }
});

test('pull killed mid-download resumes with a Range request and verifies the whole blob', async (t) => {
  const s = await setup();
  const repo = s.hub.repos.get(REPO)!;
  repo.slow = { chunk: 8192, ms: 40 };
  try {
    const child = start(s, ['pull', REPO]);
    const exit = done(child);
    const part = BLOB(s) + '.incomplete';
    while (!(existsSync(part) && statSync(part).size >= 32768)) {
      if (child.exitCode !== null) t.fail('pull finished before it could be killed');
      await new Promise((r) => setTimeout(r, 10));
    }
    child.kill('SIGKILL');
    t.is((await exit).signal, 'SIGKILL');
    const have = statSync(part).size;
    t.true(have > 0 && have < WEIGHTS.data.length, String(have));
    const lock = join(s.cache, '.locks', FOLDER, `${WEIGHTS.sha256}.lock`);
    t.true(existsSync(lock), 'the dead pull left its lock behind');
    repo.slow = undefined;
    const r = await resolveModel(REPO, { quiet: true, env: s.env });
    const gets = s.hub.log.filter((q) => q.method === 'GET' && q.path.endsWith('/model.safetensors'));
    t.deepEqual(gets.map((q) => q.range), [undefined, `bytes=${have}-`]);
    t.deepEqual(readFileSync(join(r.dir, 'model.safetensors')), WEIGHTS.data);
    t.false(existsSync(part));
    t.false(existsSync(lock));
  } finally {
    await s.hub.stop();
  }
});

test('two pulls at once: one download per file, both succeed with the same snapshot', async (t) => {
  const s = await setup();
  s.hub.repos.get(REPO)!.slow = { chunk: 16384, ms: 20 };
  try {
    const [a, b] = await Promise.all([cli(s, 'pull', REPO), cli(s, 'pull', REPO)]);
    t.is(a.code, 0, a.stderr);
    t.is(b.code, 0, b.stderr);
    const snap = join(s.cache, FOLDER, 'snapshots', COMMIT);
    t.is(a.stdout, snap + '\n');
    t.is(b.stdout, snap + '\n');
    const gets = s.hub.downloads().map((q) => q.path.split('/').pop()).sort();
    t.deepEqual(gets, ['config.json', 'model.safetensors']);
    t.deepEqual(readFileSync(join(snap, 'model.safetensors')), WEIGHTS.data);
    t.deepEqual(tree(join(s.cache, '.locks')), [`${FOLDER}/`]);
    t.regex(a.stderr + b.stderr, /pull test-org\/tiny-gpt2: 2\/2 files {2}235\.0 KiB\/235\.0 KiB {2}[\d.]+ (B|KiB|MiB)\/s {2}ETA 00:00 model\.safetensors done\n/);
  } finally {
    await s.hub.stop();
  }
});

test('refusals exit 2 with one line naming the repo and what to do, no stack', async (t) => {
  const s = await setup({ [REPO]: { ...repoFromDir(F32), gated: true } });
  try {
    const r = await cli(s, 'generate', '--model', REPO, '--prompt-ids', '1,2');
    t.is(r.code, 2);
    t.is(r.stderr, `pipegpt: ${REPO}/config.json: the hub refused access (HTTP 401); ${REPO} is gated or private — ` +
      `open ${s.hub.url}/${REPO}, accept its licence, then pass a read token with --token or set HF_TOKEN\n`);
    const asked = s.hub.log.length;
    const off = await done(start(s, ['pull', REPO, '--quiet'], { HF_HUB_OFFLINE: '1' }));
    t.is(s.hub.log.length, asked, 'offline: no request');
    t.is(off.code, 2);
    t.regex(off.stderr, /^pipegpt: test-org\/tiny-gpt2@main: offline mode \(HF_HUB_OFFLINE\)/);
    const bad = await cli(s, 'pull', 'not-a-hub-id');
    t.is(bad.code, 2);
    t.is(bad.stderr, 'pipegpt: pull: expected a hub id org/name[@revision], got "not-a-hub-id"\n');
    const missing = await cli(s, 'pull', 'test-org/nothing-here', '--quiet');
    t.is(missing.code, 2);
    t.regex(missing.stderr, /^pipegpt: test-org\/nothing-here: no such model repo on http:\/\/127\.0\.0\.1:\d+ \(HTTP 401; if it is private, pass --token or set HF_TOKEN\)\n$/);
  } finally {
    await s.hub.stop();
  }
});
