// resolveModel against the local test hub: the Python cache layout file by file, cache hits with
// no request, offline mode, a hand-made huggingface_hub cache, sharded weights, gated and
// pickle-only repos, a corrupted download.
import test from 'ava';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HubError } from '../../src/errors.js';
import { resolveModel } from '../../src/hub/index.js';
import { COMMIT, GOOD_TOKEN, repoFromDir } from '../helpers/hub-server.js';
import { ckptDir } from '../helpers/paths.js';
import { FOLDER, REPO, setup, tree } from './_hub.js';

const F32 = ckptDir('f32');
const file = (dir: string, f: string) => readFileSync(join(dir, f));
const quiet = { quiet: true };

test('first pull writes exactly the huggingface_hub layout; a second resolve makes no request', async (t) => {
  const s = await setup();
  try {
    const r = await resolveModel(REPO, { ...quiet, env: s.env });
    const snap = join(s.cache, FOLDER, 'snapshots', COMMIT);
    t.deepEqual(r, { dir: snap, commit: COMMIT, repo: REPO });
    const f = s.hub.repos.get(REPO)!.files;
    const cfg = f.get('config.json')!, w = f.get('model.safetensors')!;
    t.deepEqual(tree(s.root), [
      'cache/',
      'cache/.locks/',
      `cache/.locks/${FOLDER}/`,
      `cache/${FOLDER}/`,
      `cache/${FOLDER}/.no_exist/`,
      `cache/${FOLDER}/.no_exist/${COMMIT}/`,
      ...['generation_config.json', 'special_tokens_map.json', 'tokenizer.json', 'tokenizer_config.json'].map((n) => `cache/${FOLDER}/.no_exist/${COMMIT}/${n} file 0`),
      `cache/${FOLDER}/blobs/`,
      ...[[cfg.gitSha1, cfg.data.length], [w.sha256, w.data.length]].sort().map(([h, n]) => `cache/${FOLDER}/blobs/${h} file ${n}`),
      `cache/${FOLDER}/refs/`,
      `cache/${FOLDER}/refs/main file 40`,
      `cache/${FOLDER}/snapshots/`,
      `cache/${FOLDER}/snapshots/${COMMIT}/`,
      `cache/${FOLDER}/snapshots/${COMMIT}/config.json -> ../../blobs/${cfg.gitSha1}`,
      `cache/${FOLDER}/snapshots/${COMMIT}/model.safetensors -> ../../blobs/${w.sha256}`,
    ]);
    t.is(readFileSync(join(s.cache, FOLDER, 'refs/main'), 'utf8'), COMMIT);
    t.deepEqual(file(snap, 'model.safetensors'), file(F32, 'model.safetensors'));
    t.deepEqual(file(snap, 'config.json'), file(F32, 'config.json'));
    // LFS file: HEAD got the 302 (not followed), GET followed it to the CDN
    t.true(s.hub.log.some((q) => q.method === 'HEAD' && q.path.endsWith('/model.safetensors')));
    t.true(s.hub.log.some((q) => q.method === 'GET' && q.path === `/cdn/test-org~tiny-gpt2/${w.sha256}`));
    const before = s.hub.log.length;
    const again = await resolveModel(REPO, { ...quiet, env: s.env });
    t.deepEqual(again, r);
    t.is(s.hub.log.length, before, 'a cache hit asks the hub nothing');
  } finally {
    await s.hub.stop();
  }
});

test('cache hit with the hub down, and offline mode from the cache', async (t) => {
  const s = await setup();
  await resolveModel(REPO, { ...quiet, env: s.env });
  await s.hub.stop();
  const down = await resolveModel(REPO, { ...quiet, env: s.env });
  t.is(down.commit, COMMIT);
  const off = await resolveModel(`${REPO}@${COMMIT}`, { ...quiet, env: { ...s.env, HF_HUB_OFFLINE: '1' } });
  t.is(off.dir, down.dir);
  // not cached: the server being down is named, no stack
  const e = await t.throwsAsync(resolveModel('test-org/other', { ...quiet, env: s.env }), { instanceOf: HubError });
  t.is((e as HubError).code, 'network');
  t.regex(e!.message, /test-org\/other: cannot reach the hub at http:\/\/127\.0\.0\.1:\d+/);
});

test('offline mode never asks the hub and names what is missing', async (t) => {
  const s = await setup();
  try {
    const env = { ...s.env, HF_HUB_OFFLINE: '1' };
    const e = await t.throwsAsync(resolveModel(REPO, { ...quiet, env }), { instanceOf: HubError });
    t.is((e as HubError).code, 'offline');
    t.regex(e!.message, /test-org\/tiny-gpt2@main: offline mode \(HF_HUB_OFFLINE\) and the revision is not in the cache .* \(no refs\/main\); run `pipegpt pull test-org\/tiny-gpt2`/);
    // config.json only (as a Python AutoConfig call would leave it): the weights are named missing
    await resolveModel(REPO, { ...quiet, env: s.env });
    const snap = join(s.cache, FOLDER, 'snapshots', COMMIT);
    const { rmSync } = await import('node:fs');
    rmSync(join(snap, 'model.safetensors'));
    const n = s.hub.log.length;
    const e2 = await t.throwsAsync(resolveModel(REPO, { ...quiet, env }), { instanceOf: HubError });
    t.regex(e2!.message, new RegExp(`snapshot ${COMMIT} in .* lacks model\\.safetensors \\(or model\\.safetensors\\.index\\.json and its shards\\)`));
    t.is(s.hub.log.length, n);
    // online, only the missing file is fetched again (its blob is still there: no download at all)
    const gets = s.hub.downloads().length;
    await resolveModel(REPO, { ...quiet, env: s.env });
    t.is(s.hub.downloads().length, gets);
  } finally {
    await s.hub.stop();
  }
});

test('a cache laid out by hand the way huggingface_hub does is used without any request', async (t) => {
  const s = await setup();
  try {
    const repo = join(s.cache, 'models--someone--handmade');
    const commit = 'f'.repeat(40), sha1 = '0'.repeat(40), sha256 = '1'.repeat(64);
    mkdirSync(join(repo, 'blobs'), { recursive: true });
    mkdirSync(join(repo, 'refs'));
    mkdirSync(join(repo, 'snapshots', commit), { recursive: true });
    writeFileSync(join(repo, 'blobs', sha1), file(F32, 'config.json'));
    writeFileSync(join(repo, 'blobs', sha256), file(F32, 'model.safetensors'));
    writeFileSync(join(repo, 'refs', 'main'), commit);
    symlinkSync(`../../blobs/${sha1}`, join(repo, 'snapshots', commit, 'config.json'));
    symlinkSync(`../../blobs/${sha256}`, join(repo, 'snapshots', commit, 'model.safetensors'));
    const r = await resolveModel('someone/handmade', { ...quiet, env: s.env });
    t.deepEqual(r, { dir: join(repo, 'snapshots', commit), commit, repo: 'someone/handmade' });
    t.deepEqual(s.hub.log, []);
  } finally {
    await s.hub.stop();
  }
});

test('sharded weights: the index first, then the shards it lists', async (t) => {
  const s = await setup({ [REPO]: repoFromDir(ckptDir('bf16-sharded')) });
  try {
    const r = await resolveModel(REPO, { ...quiet, env: s.env });
    for (const f of ['config.json', 'model.safetensors.index.json', 'model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors']) {
      t.deepEqual(file(r.dir, f), file(ckptDir('bf16-sharded'), f), f);
    }
    t.is(s.hub.downloads().length, 4);
  } finally {
    await s.hub.stop();
  }
});

test('a gated repo without a token: 401 names the repo and how to accept its licence; with one it downloads', async (t) => {
  const s = await setup({ [REPO]: { ...repoFromDir(ckptDir('f32')), gated: true } });
  try {
    const e = await t.throwsAsync(resolveModel(REPO, { ...quiet, env: s.env }), { instanceOf: HubError });
    t.is((e as HubError).code, 'gated');
    t.is(e!.message, `${REPO}/config.json: the hub refused access (HTTP 401); ${REPO} is gated or private — ` +
      `open ${s.hub.url}/${REPO}, accept its licence, then pass a read token with --token or set HF_TOKEN`);
    t.deepEqual(tree(join(s.cache, FOLDER, 'blobs')), []);
    const r = await resolveModel(REPO, { ...quiet, env: { ...s.env, HF_TOKEN: GOOD_TOKEN } });
    t.is(r.commit, COMMIT);
    t.true(s.hub.log.filter((q) => q.path.includes('/resolve/')).every((q) => q.auth === undefined || q.auth === `Bearer ${GOOD_TOKEN}`));
  } finally {
    await s.hub.stop();
  }
});

test('a pickle-only repo is refused, naming the file and why; nothing is downloaded', async (t) => {
  const pickle = repoFromDir(ckptDir('f32'));
  pickle.files.delete('model.safetensors');
  pickle.files.set('pytorch_model.bin', repoFromDir(ckptDir('f32')).files.get('model.safetensors')!);
  const s = await setup({ [REPO]: pickle });
  try {
    const e = await t.throwsAsync(resolveModel(REPO, { ...quiet, env: s.env }), { instanceOf: HubError });
    t.is((e as HubError).code, 'pickle-only');
    t.regex(e!.message, /^test-org\/tiny-gpt2: has only pickle weights \(pytorch_model\.bin\), no model\.safetensors; pickle files can run arbitrary code when loaded/);
    t.deepEqual(s.hub.downloads(), []);
    t.deepEqual(tree(s.root), []);
  } finally {
    await s.hub.stop();
  }
});

test('a corrupted byte is caught by the sha256 check, the blob deleted, and a clean retry succeeds', async (t) => {
  const s = await setup();
  const repo = s.hub.repos.get(REPO)!;
  repo.corrupt = true;
  try {
    const e = await t.throwsAsync(resolveModel(REPO, { ...quiet, env: s.env }), { instanceOf: HubError });
    t.is((e as HubError).code, 'checksum');
    const sha = repo.files.get('model.safetensors')!.sha256;
    t.regex(e!.message, new RegExp(`^test-org/tiny-gpt2/model\\.safetensors: downloaded 240344 bytes hash to [0-9a-f]{64}, but the hub's ETag is ${sha}; the file was deleted`));
    const blobs = tree(join(s.cache, FOLDER, 'blobs'));
    t.deepEqual(blobs, [`${repo.files.get('config.json')!.gitSha1} file ${repo.files.get('config.json')!.data.length}`]);
    t.deepEqual(tree(join(s.cache, FOLDER, 'refs')), []);
    repo.corrupt = false;
    const r = await resolveModel(REPO, { ...quiet, env: s.env });
    t.deepEqual(file(r.dir, 'model.safetensors'), file(F32, 'model.safetensors'));
  } finally {
    await s.hub.stop();
  }
});

test('a renamed repo: the relative redirect is followed and the cache keyed by the name asked for', async (t) => {
  const s = await setup();
  s.hub.renamed.set('old-org/tiny', REPO);
  try {
    const r = await resolveModel('old-org/tiny', { ...quiet, env: s.env });
    t.is(r.dir, join(s.cache, 'models--old-org--tiny', 'snapshots', COMMIT));
    t.deepEqual(file(r.dir, 'model.safetensors'), file(F32, 'model.safetensors'));
    t.true(s.hub.log.some((q) => q.method === 'HEAD' && q.path === `/${REPO}/resolve/${COMMIT}/model.safetensors`));
  } finally {
    await s.hub.stop();
  }
});

test('two resolves at once in one process: each file downloaded once, same snapshot', async (t) => {
  const s = await setup();
  s.hub.repos.get(REPO)!.slow = { chunk: 32768, ms: 10 };
  try {
    const [a, b] = await Promise.all([resolveModel(REPO, { ...quiet, env: s.env }), resolveModel(REPO, { ...quiet, env: s.env })]);
    t.deepEqual(a, b);
    t.deepEqual(s.hub.downloads().map((q) => q.path.split('/').pop()).sort(), ['config.json', 'model.safetensors']);
    t.deepEqual(file(a.dir, 'model.safetensors'), file(F32, 'model.safetensors'));
  } finally {
    await s.hub.stop();
  }
});

test('a local directory passes through untouched, without any request', async (t) => {
  t.deepEqual(await resolveModel(F32), { dir: F32, commit: null, repo: null });
  t.deepEqual(await resolveModel('/no/such/dir'), { dir: '/no/such/dir', commit: null, repo: null });
});
