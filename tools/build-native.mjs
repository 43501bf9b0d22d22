#!/usr/bin/env node
// Builds the optional native kernel addon (binding.gyp → build/Release/pipegpt_native.node) with
// the node-gyp that ships with npm. Never fails the install: on any error it prints one warning
// line and exits 0; the engine then runs on the other kernel backends.
// PIPEGPT_NATIVE=0 skips the build.   Usage: node tools/build-native.mjs [--verbose]
import { spawnSync } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const verbose = process.argv.includes('--verbose');
const warn = (why) => {
  console.warn(`pipegpt: native kernels not built (${why}); falling back to the JS backends. Retry with: node tools/build-native.mjs --verbose`);
  process.exit(0);
};

if (process.env.PIPEGPT_NATIVE === '0') {
  console.log('pipegpt: PIPEGPT_NATIVE=0, native kernels not built');
  process.exit(0);
}

/** node-gyp's CLI: npm's own copy (npm sets npm_config_node_gyp for lifecycle scripts), else look. */
function findNodeGyp() {
  const cands = [];
  if (process.env.npm_config_node_gyp) cands.push(process.env.npm_config_node_gyp);
  try { cands.push(createRequire(join(root, 'package.json')).resolve('node-gyp/bin/node-gyp.js')); } catch { /* not a dependency */ }
  if (process.env.npm_execpath) cands.push(join(dirname(process.env.npm_execpath), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  const bin = dirname(process.execPath);
  cands.push(join(bin, '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  cands.push(join(bin, 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js')); // Windows layout
  for (const c of cands) {
    try { if (existsSync(c)) return realpathSync(c); } catch { /* next */ }
  }
  return null;
}

/** Headers installed next to this node (distro packages, official tarballs): no download needed. */
function localNodeDir() {
  if (process.env.npm_config_nodedir) return null; // node-gyp reads it itself
  const prefix = resolve(dirname(process.execPath), '..');
  return existsSync(join(prefix, 'include', 'node', 'node_api.h')) ? prefix : null;
}

const gyp = findNodeGyp();
if (!gyp) warn('node-gyp not found');
const args = [gyp, 'rebuild'];
const nodedir = localNodeDir();
if (nodedir) args.push(`--nodedir=${nodedir}`);
if (!verbose) args.push('--loglevel=error');
const r = spawnSync(process.execPath, args, { cwd: root, stdio: verbose ? 'inherit' : 'pipe', encoding: 'utf8', timeout: 10 * 60_000 });
if (r.error) warn(r.error.message);
if (r.status !== 0) {
  const lines = `${r.stderr ?? ''}\n${r.stdout ?? ''}`.split('\n').map((l) => l.trim()).filter((l) => /error/i.test(l));
  warn(lines[0] ?? `node-gyp exited with ${r.status}`);
}
if (!existsSync(join(root, 'build', 'Release', 'pipegpt_native.node'))) warn('build produced no pipegpt_native.node');
console.log('pipegpt: native kernels built (build/Release/pipegpt_native.node)');
