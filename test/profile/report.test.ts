// `pipegpt profile`: the msgpack trace, the self-contained HTML report, and the report as drawn
// by headless Chromium (one timeline lane per worker thread, busy blocks tagged with their stage).
import test from 'ava';
import { accessSync, constants, existsSync, readFileSync, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { readTrace } from '../../src/profile/trace.js';
import { cli, F32, idPrompts, tmp, write } from '../job/_helpers.js';

/** The browser to draw the report with: $CHROMIUM_PATH, else chromium / chromium-browser /
 *  google-chrome on PATH, else the one playwright-core downloads (`npx playwright-core install
 *  chromium`); null, with the places looked at, when there is none. */
async function findChromium(): Promise<{ path: string | null; why: string }> {
  const runnable = (p: string) => {
    try {
      accessSync(p, constants.X_OK);
      return statSync(p).isFile();
    } catch {
      return false;
    }
  };
  const env = process.env.CHROMIUM_PATH;
  if (env) return runnable(env) ? { path: env, why: '' } : { path: null, why: `CHROMIUM_PATH=${env} is not an executable file` };
  for (const dir of (process.env.PATH ?? '').split(delimiter).filter(Boolean)) {
    for (const name of ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable']) {
      if (runnable(join(dir, name))) return { path: join(dir, name), why: '' };
    }
  }
  let pw = '';
  try {
    pw = (await import('playwright-core')).chromium.executablePath();
  } catch { /* playwright-core knows no browser for this platform */ }
  if (pw && runnable(pw)) return { path: pw, why: '' };
  return { path: null, why: `no CHROMIUM_PATH, no chromium/chromium-browser/google-chrome on PATH, no playwright browser${pw ? ` at ${pw}` : ''}` };
}
const { path: CHROMIUM, why: noChromium } = await findChromium();
if (CHROMIUM === null) console.log(`report.test: skipping the headless Chromium test: ${noChromium}`);
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

const dir = tmp('profile');
const report = join(dir, 'report.html');
let profileRun: ReturnType<typeof cli>;

test.before(() => {
  profileRun = cli('profile', '--model', F32, '--workers', '1,2', '--batch', '32', '--input-len', '8', '--output-len', '6', '--report', report);
});

test('profile writes a msgpack trace with every stage span, and prints the stage table', (t) => {
  t.is(profileRun.status, 0, profileRun.stderr);
  const trace = readTrace(join(dir, 'report.trace.msgpack'));
  t.deepEqual(trace.runs.map((r) => r.workers), [1, 2]);
  for (const r of trace.runs) {
    t.true(r.spans.length > 0);
    t.is(r.generatedTokens, 32 * 6);
    t.true(r.spans.every((s) => s.start >= r.t0 - 1 && s.end <= r.t1 + 1 && typeof s.step === 'number'));
  }
  t.regex(profileRun.stderr, /busy %\s+barrier %\s+bubble %/);
});

test('the report is self-contained: no external scripts, styles or images', (t) => {
  const html = readFileSync(report, 'utf8');
  t.notRegex(html, /<(script|link|img)[^>]+(src|href)=/i);
  t.notRegex(html, /url\(/);
  t.regex(html, /<style>/);
  t.regex(html, /<svg class="timeline"/);
  t.regex(html, /<svg class="scaling"/);
});

test('profile -c runs a job config with tracing', (t) => {
  const d = tmp('profile-job');
  const input = write(d, 'in.jsonl', idPrompts(6, { max_tokens: 4 }));
  const conf = write(d, 'job.yaml', `model: ${F32}\ninput: ${input}\noutput: ${join(d, 'unused.jsonl')}\n`);
  const r = cli('profile', '-c', conf, '--report', join(d, 'job.html'));
  t.is(r.status, 0, r.stderr);
  const trace = readTrace(join(d, 'job.trace.msgpack'));
  t.is(trace.runs[0].generatedTokens, 24);
  t.false(existsSync(join(d, 'unused.jsonl')));
});

(CHROMIUM !== null ? test : test.skip)(`headless Chromium draws one lane per worker and the busy blocks${CHROMIUM !== null ? '' : ` (skipped: ${noChromium})`}`, async (t) => {
  t.is(profileRun.status, 0, profileRun.stderr);
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: CHROMIUM!, args: CHROMIUM_ARGS });
  try {
    const page = await browser.newPage();
    await page.goto(pathToFileURL(report).href);
    const runs = await page.$$eval('section.run', (secs) => secs.map((s) => ({
      workers: Number(s.getAttribute('data-workers')),
      lanes: s.querySelectorAll('rect.lane').length,
      blocks: s.querySelectorAll('rect[data-stage]').length,
      width: (s.querySelector('svg.timeline') as SVGSVGElement).getBoundingClientRect().width,
    })));
    t.is(runs.length, 2);
    for (const r of runs) {
      t.is(r.lanes, r.workers, `lanes of the ${r.workers}-worker run`);
      t.true(r.blocks > 0);
      t.true(r.width > 500);
    }
    t.is(await page.locator('svg.scaling circle.pt').count(), 2);
    await page.hover('rect[data-stage]');
    t.regex(await page.textContent('#info') ?? '', /stage \d+ · step \d+/);
  } finally {
    await browser.close();
  }
});

test('bench prints llama.cpp-style rows per worker count and batch size', (t) => {
  const r = cli('bench', '--model', F32, '--workers', '1', '--batch', '1,4', '--input-len', '8', '--output-len', '4', '--json');
  t.is(r.status, 0, r.stderr);
  const rows = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
  t.deepEqual(rows.map((x) => [x.workers, x.pp, x.tg, x.b, x.nKv]), [[1, 8, 4, 1, 12], [1, 8, 4, 4, 48]]);
  t.true(rows.every((x) => x.sPp > 0 && x.sTg > 0 && x.s > 0));
  const table = cli('bench', '--model', F32, '--batch', '2', '--input-len', '4', '--output-len', '2');
  t.is(table.status, 0, table.stderr);
  t.regex(table.stdout, /\|\s+workers \|\s+PP \|\s+TG \|\s+B \|\s+N_KV \|\s+T_PP s \|\s+S_PP t\/s \|/);
});
