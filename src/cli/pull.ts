// `pipegpt pull ORG/NAME[@REV]`: downloads a hub model into the Hugging Face cache ahead of time
// (always asks the hub which commit the revision is now); prints the snapshot folder on stdout.
import { Command } from 'commander';
import { UsageError } from '../errors.js';
import { looksLikeHubId, resolveModel } from '../hub/index.js';
import { TOKEN_HELP } from './options.js';

export function pullCommand(): Command {
  return new Command('pull')
    .description('download a Hugging Face Hub model (config, safetensors weights, tokenizer files) into the shared HF cache')
    .argument('<id>', 'org/name[@revision], e.g. openai-community/gpt2')
    .option('--token <token>', TOKEN_HELP)
    .option('--quiet', 'no progress output')
    .action(async (id: string, opts: { token?: string; quiet?: boolean }) => {
      if (!looksLikeHubId(id)) throw new UsageError(`pull: expected a hub id org/name[@revision], got "${id}"`);
      const r = await resolveModel(id, { token: opts.token, quiet: opts.quiet === true, refresh: true });
      if (!opts.quiet) process.stderr.write(`${r.repo} @ ${r.commit}\n`);
      process.stdout.write(r.dir + '\n');
    });
}
