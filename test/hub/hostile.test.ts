// A hostile or broken hub cannot make pipegpt write outside its cache, nor leave a bad blob:
// paths as commit ids, ETags or shard names are refused before anything is written, an oversized
// body is cut off and deleted. Bad ids from the user are refused before any request.
import test from 'ava';
import { HubError } from '../../src/errors.js';
import { resolveModel } from '../../src/hub/index.js';
import { checkFileName, inside, normalizeEtag, parseHubId } from '../../src/hub/ids.js';
import { repoFromDir, type HubRepo } from '../helpers/hub-server.js';
import { ckptDir } from '../helpers/paths.js';
import { FOLDER, REPO, setup, tree } from './_hub.js';

const quiet = { quiet: true };

async function refused(t: import('ava').ExecutionContext, repo: HubRepo, message: RegExp): Promise<string[]> {
  const s = await setup({ [REPO]: repo });
  try {
    const e = await t.throwsAsync(resolveModel(REPO, { ...quiet, env: s.env }), { instanceOf: HubError });
    t.is((e as HubError).code, 'hostile', e!.message);
    t.regex(e!.message, message);
    const all = tree(s.root);
    t.true(all.every((p) => p === 'cache/' || p.startsWith('cache/')), all.join('\n'));
    return all;
  } finally {
    await s.hub.stop();
  }
}

test('a path as the commit id in model info: refused, nothing written', async (t) => {
  const all = await refused(t, { ...repoFromDir(ckptDir('f32')), infoSha: '../../../../tmp/x' },
    /^test-org\/tiny-gpt2: the hub answered "\.\.\/\.\.\/\.\.\/\.\.\/tmp\/x" as the commit id of revision "main"; expected 40 hex digits, nothing was written$/);
  t.deepEqual(all, []);
});

test('a path as X-Repo-Commit: refused, nothing written', async (t) => {
  const all = await refused(t, { ...repoFromDir(ckptDir('f32')), headCommit: '../../x' }, /answered "\.\.\/\.\.\/x" as the commit id of config\.json/);
  t.deepEqual(all, []);
});

test('a path as the ETag: refused, nothing written', async (t) => {
  const all = await refused(t, { ...repoFromDir(ckptDir('f32')), etag: '../../../../evil' },
    /^test-org\/tiny-gpt2: the hub answered "\\"\.\.\/\.\.\/\.\.\/\.\.\/evil\\"" as the ETag of config\.json; expected a sha1 or sha256 hex digest/);
  t.deepEqual(all, []);
});

test('a shard name with ".." in the index: refused before it is requested', async (t) => {
  const index = JSON.stringify({ metadata: {}, weight_map: { 'wte.weight': '../../../../evil.safetensors' } });
  const repo = repoFromDir(ckptDir('f32'), { 'model.safetensors.index.json': index });
  repo.files.delete('model.safetensors');
  const all = await refused(t, repo, /the hub listed the file name "\.\.\/\.\.\/\.\.\/\.\.\/evil\.safetensors", which is not a safe relative path/);
  t.false(all.some((p) => p.includes('evil')));
});

test('a body longer than the advertised size is cut off and deleted', async (t) => {
  const all = await refused(t, { ...repoFromDir(ckptDir('f32')), oversize: 1 << 20 },
    /^test-org\/tiny-gpt2\/model\.safetensors: the hub sent more than the advertised 240344 bytes; download cut off and deleted$/);
  const blobs = all.filter((p) => p.startsWith(`cache/${FOLDER}/blobs/`) && p.includes(" file "));
  t.is(blobs.length, 1, blobs.join('\n')); // config.json only: no .incomplete, no weights blob
  t.false(all.some((p) => p.includes('.incomplete')));
});

test('bad ids and revisions from the user are refused before any request', async (t) => {
  for (const spec of ['org/na..me', 'a--b/c', 'org/name@../../x', 'org/name@', 'org/name@a//b', `org/${'x'.repeat(100)}`]) {
    const e = t.throws(() => parseHubId(spec), { instanceOf: HubError }, spec);
    t.is((e as HubError).code, 'bad-id');
  }
  const s = await setup();
  try {
    await t.throwsAsync(resolveModel('org/name@../../../x', { ...quiet, env: s.env }), { message: /org\/name@\.\.\/\.\.\/\.\.\/x: revision "\.\.\/\.\.\/\.\.\/x" is not a branch, tag or commit name/ });
    t.deepEqual(s.hub.log, []);
  } finally {
    await s.hub.stop();
  }
  t.deepEqual(parseHubId('openai-community/gpt2@refs/pr/1'), { repo: 'openai-community/gpt2', revision: 'refs/pr/1' });
});

test('validators: file names, ETags, containment', (t) => {
  for (const bad of ['../x', 'a/../../x', '/etc/passwd', 'C:\\x', 'a//b', './x', '']) {
    t.throws(() => checkFileName(bad, 'o/n'), { instanceOf: HubError }, bad);
  }
  t.is(checkFileName('sub/model.safetensors', 'o/n'), 'sub/model.safetensors');
  t.is(normalizeEtag(`W/"${'a'.repeat(64)}"`, 'o/n', 'f'), 'a'.repeat(64));
  t.is(normalizeEtag(`"${'b'.repeat(40)}"`, 'o/n', 'f'), 'b'.repeat(40));
  for (const bad of [null, '"abc"', `"${'A'.repeat(40)}"`, `"${'a'.repeat(41)}"`, '"../x"']) {
    t.throws(() => normalizeEtag(bad, 'o/n', 'f'), { instanceOf: HubError }, String(bad));
  }
  t.is(inside('/c/m', '/c/m/blobs/x', 'o/n'), '/c/m/blobs/x');
  t.throws(() => inside('/c/m', '/c/m/../other', 'o/n'), { message: /refusing to write \/c\/other, which is outside the model's cache folder \/c\/m/ });
  t.throws(() => inside('/c/m', '/c/m2/x', 'o/n'));
});
