// A self-contained HTML profile report (inline CSS, JS and SVG; no external assets): per run a
// timeline with one lane per worker thread (busy blocks coloured by stage, micro-batch ids on
// hover and as labels where they fit; idle gaps are the bubbles), the per-stage table, and the
// scaling curve (tokens/s vs workers) when there are several runs.
import { writeFileSync } from 'node:fs';
import type { StageStats } from './stage-stats.js';
import { lanes, tracePathFor, writeTrace, type Trace, type TraceRun } from './trace.js';

/** Writes FILE.trace.msgpack (creating the directory) and the HTML report FILE. */
export function writeReport(file: string, trace: Trace): void {
  writeTrace(tracePathFor(file), trace);
  writeFileSync(file, renderReport(trace));
}

const COLORS = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];
const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const W = 1100, LABEL = 150, LANE = 26;

export function timelineSvg(run: TraceRun, id: number): string {
  const ls = lanes(run), span = Math.max(1e-9, run.t1 - run.t0), plotW = W - LABEL - 10;
  const x = (t: number) => LABEL + ((t - run.t0) / span) * plotW;
  const laneIx = new Map(ls.map((l, i) => [`${l.stage}:${l.worker}`, i]));
  const h = ls.length * LANE + 30;
  const out: string[] = [`<svg class="timeline" id="timeline-${id}" data-lanes="${ls.length}" width="${W}" height="${h}" viewBox="0 0 ${W} ${h}" xmlns="http://www.w3.org/2000/svg">`];
  ls.forEach((l, i) => {
    const busy = run.spans.filter((s) => s.stage === l.stage && s.worker === l.worker).reduce((a, s) => a + Math.min(s.end, run.t1) - Math.max(s.start, run.t0), 0);
    out.push(`<rect class="lane" data-lane="${i}" x="${LABEL}" y="${i * LANE + 2}" width="${plotW}" height="${LANE - 4}" fill="#eee"/>`,
      `<text x="4" y="${i * LANE + LANE / 2 + 4}" class="lbl">stage ${l.stage} · thread ${l.worker} · ${(100 * busy / span).toFixed(0)}%</text>`);
  });
  for (const s of run.spans) {
    const i = laneIx.get(`${s.stage}:${s.worker}`)!;
    const x0 = x(Math.max(s.start, run.t0)), w = Math.max(0.5, x(Math.min(s.end, run.t1)) - x0);
    const tip = `stage ${s.stage} · step ${s.step} · ${s.rows} rows · ${(s.end - s.start).toFixed(2)} ms${s.shard !== undefined ? ` · shard ${s.shard}` : ''}`;
    out.push(`<rect data-stage="${s.stage}" data-step="${s.step}" x="${x0.toFixed(2)}" y="${i * LANE + 2}" width="${w.toFixed(2)}" height="${LANE - 4}" fill="${COLORS[s.stage % COLORS.length]}"><title>${tip}</title></rect>`);
    if (w > 8 * String(s.step).length + 4) out.push(`<text class="step" x="${(x0 + w / 2).toFixed(2)}" y="${i * LANE + LANE / 2 + 4}" text-anchor="middle">${s.step}</text>`);
  }
  for (let k = 0; k <= 10; k++) {
    const t = (span * k) / 10, xx = LABEL + (plotW * k) / 10;
    out.push(`<line x1="${xx}" x2="${xx}" y1="${ls.length * LANE}" y2="${ls.length * LANE + 6}" stroke="#444"/>`,
      `<text x="${xx}" y="${ls.length * LANE + 20}" text-anchor="${k === 0 ? 'start' : k === 10 ? 'end' : 'middle'}" class="tick">${t.toFixed(t < 10 ? 1 : 0)} ms</text>`);
  }
  out.push('</svg>');
  return out.join('\n');
}

export function stageTableHtml(stats: StageStats[]): string {
  const head = ['stage', 'layers', 'workers', 'tasks', 'busy ms', 'busy %', 'bubble %', 'tokens / busy s'];
  const rows = stats.map((s) => `<tr><td><span class="sw" style="background:${COLORS[s.stage % COLORS.length]}"></span>${s.stage}</td><td>${esc(s.what)}</td><td>${s.workers}</td><td>${s.tasks}</td><td>${s.busyMs.toFixed(1)}</td><td>${s.busyPct.toFixed(1)}</td><td>${s.bubblePct.toFixed(1)}</td><td>${s.tokensPerBusyS.toFixed(0)}</td></tr>`);
  return `<table class="stages"><thead><tr>${head.map((h) => `<th>${h}</th>`).join('')}</tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

export function scalingSvg(runs: TraceRun[]): string {
  const w = 520, h = 300, m = 50;
  const maxW = Math.max(...runs.map((r) => r.workers)), maxT = Math.max(...runs.map((r) => r.tokensPerS)) * 1.1 || 1;
  const px = (v: number) => m + (v / maxW) * (w - 2 * m), py = (v: number) => h - m - (v / maxT) * (h - 2 * m);
  const pts = [...runs].sort((a, b) => a.workers - b.workers);
  const dots = pts.map((r) => `<circle class="pt" data-workers="${r.workers}" cx="${px(r.workers).toFixed(1)}" cy="${py(r.tokensPerS).toFixed(1)}" r="4" fill="#4e79a7"><title>${r.workers} workers: ${r.tokensPerS.toFixed(1)} tok/s</title></circle>` +
    `<text x="${px(r.workers).toFixed(1)}" y="${h - m + 16}" text-anchor="middle" class="tick">${r.workers}</text>`);
  return `<svg class="scaling" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" xmlns="http://www.w3.org/2000/svg">
<line x1="${m}" y1="${h - m}" x2="${w - m}" y2="${h - m}" stroke="#444"/><line x1="${m}" y1="${m}" x2="${m}" y2="${h - m}" stroke="#444"/>
<text x="${w / 2}" y="${h - 10}" text-anchor="middle">workers</text><text x="14" y="${h / 2}" transform="rotate(-90 14 ${h / 2})" text-anchor="middle">generated tokens/s</text>
<text x="${m - 6}" y="${m + 4}" text-anchor="end" class="tick">${maxT.toFixed(0)}</text>
<polyline fill="none" stroke="#4e79a7" stroke-width="2" points="${pts.map((r) => `${px(r.workers).toFixed(1)},${py(r.tokensPerS).toFixed(1)}`).join(' ')}"/>
${dots.join('\n')}</svg>`;
}

const CSS = `body{font:14px system-ui,sans-serif;margin:20px;color:#222}h1{font-size:20px}h2{font-size:16px;margin-top:28px}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}th{background:#f4f4f4}
.lbl{font-size:11px;fill:#333}.tick{font-size:10px;fill:#555}.step{font-size:9px;fill:#fff;pointer-events:none}
.sw{display:inline-block;width:10px;height:10px;margin-right:4px}#info{position:fixed;top:8px;right:12px;background:#fffbe6;border:1px solid #ccc;padding:4px 8px;font-size:12px}
rect[data-stage]:hover{stroke:#000;stroke-width:1}`;

const JS = `document.addEventListener('mouseover',function(e){var t=e.target;if(t&&t.getAttribute&&t.getAttribute('data-stage')!==null){var ti=t.querySelector('title');document.getElementById('info').textContent=ti?ti.textContent:'';}});`;

export function renderReport(trace: Trace): string {
  const runs = trace.runs.map((r, i) => `<section class="run" data-workers="${r.workers}">
<h2>${r.workers} worker${r.workers === 1 ? '' : 's'}: ${esc(r.plan)}</h2>
<p>${((r.t1 - r.t0) / 1000).toFixed(3)} s · ${r.promptTokens} prompt + ${r.generatedTokens} generated tokens · <b>${r.tokensPerS.toFixed(1)} generated tokens/s</b> · ${r.spans.length} stage tasks. Grey = idle (pipeline bubbles); hover a block for its micro-batch (step).</p>
${timelineSvg(r, i)}
${stageTableHtml(r.stats)}
</section>`);
  const scaling = trace.runs.length > 1 ? `<h2>Scaling</h2>${scalingSvg(trace.runs)}
<table class="scaling-table"><tr><th>workers</th><th>tokens/s</th><th>speedup</th></tr>${trace.runs.map((r) => `<tr><td>${r.workers}</td><td>${r.tokensPerS.toFixed(1)}</td><td>${(r.tokensPerS / trace.runs[0].tokensPerS).toFixed(2)}×</td></tr>`).join('')}</table>` : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>pipegpt profile: ${esc(trace.model)}</title><style>${CSS}</style></head>
<body><div id="info">hover a block</div>
<h1>pipegpt profile — ${esc(trace.model)}</h1><p>created ${esc(trace.created)}</p>
${scaling}
${runs.join('\n')}
<script>${JS}</script>
</body></html>
`;
}
