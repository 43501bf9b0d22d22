// `pipegpt models`: the models in the Hugging Face cache (downloaded by pipegpt or by Python),
// with size on disk and which revisions point at which commit.
import { Command } from 'commander';
import { listCachedModels } from '../hub/index.js';
import { formatBytes as size } from '../hub/progress.js';


export function modelsCommand(): Command {
  return new Command('models')
    .description('list the models in the Hugging Face cache (HF_HUB_CACHE) with size and revision')
    .option('--json', 'print one JSON object per model')
    .action(async (opts: { json?: boolean }) => {
      const { root, models, warnings } = await listCachedModels();
      for (const w of warnings) process.stderr.write(`warning: ${w}\n`);
      if (opts.json) {
        for (const m of models) process.stdout.write(JSON.stringify(m) + '\n');
        return;
      }
      if (models.length === 0) return void process.stderr.write(`no models in ${root}\n`);
      const rows = models.map((m) => [m.repo, size(m.size),
        m.revisions.map((v) => `${v.commit.slice(0, 12)}${v.refs.length ? ` (${v.refs.join(', ')})` : ''}`).join(', ')]);
      const w0 = Math.max(5, ...rows.map((r) => r[0].length)), w1 = Math.max(4, ...rows.map((r) => r[1].length));
      process.stdout.write(`${'model'.padEnd(w0)}  ${'size'.padStart(w1)}  revision\n`);
      for (const r of rows) process.stdout.write(`${r[0].padEnd(w0)}  ${r[1].padStart(w1)}  ${r[2]}\n`);
      process.stderr.write(`cache: ${root}\n`);
    });
}
