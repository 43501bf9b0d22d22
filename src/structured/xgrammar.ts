// Loads @mlc-ai/web-xgrammar (xgrammar as WASM, pinned to 0.1.27). Its package.json says
// "type": "module" while lib/index.js is UMD/CommonJS, so neither import nor require loads it;
// the file is compiled here as CommonJS. Two small source edits, checked against the pinned text:
//  - the WASM module's printErr comes to us (xgrammar prints why a grammar or regex is bad there,
//    then aborts: an aborted instance is dead, so callers parse untrusted text in a separate,
//    disposable instance: see grammars.ts);
//  - the embind binding is exposed, so a matcher can fill its next-token bitmask synchronously
//    straight into the caller's buffer (the package's async getNextTokenBitmask copies it twice).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import type * as XG from '@mlc-ai/web-xgrammar';

export type Xgrammar = typeof XG & { __binding(): XgBinding };
export interface XgBinding { vecIntToView(v: unknown): Int32Array }
interface MatcherHandle { GetNextTokenBitmask(vocabSize: number): { delete(): void }; AcceptToken(id: number, verbose: boolean): boolean }

const require = createRequire(import.meta.url);
const EDITS: Array<[string, string]> = [
  ['binding = await Module();', 'binding = await Module({ printErr: (s) => module.__onErr(String(s)), print: () => {} });'],
  ['let binding = null;', 'let binding = null; exports.__binding = () => binding;'],
];

let source: { file: string; text: string } | null = null;

/** A fresh xgrammar instance (its own WASM heap); printErr lines go to onErr. */
export function loadXgrammar(onErr: (line: string) => void): Xgrammar {
  if (source === null) {
    const file = require.resolve('@mlc-ai/web-xgrammar');
    let text = readFileSync(file, 'utf8');
    for (const [from, to] of EDITS) {
      if (!text.includes(from)) throw new Error(`${file}: not the @mlc-ai/web-xgrammar 0.1.27 this loader was written for (missing ${JSON.stringify(from)})`);
      text = text.replace(from, to);
    }
    source = { file, text };
  }
  const Module = require('node:module') as { new(id: string, parent?: unknown): CjsModule; _nodeModulePaths(dir: string): string[] };
  const m = new Module(source.file);
  m.filename = source.file;
  m.paths = Module._nodeModulePaths(dirname(source.file));
  m.__onErr = onErr;
  m._compile(source.text, source.file);
  return m.exports as Xgrammar;
}

interface CjsModule { filename: string; paths: string[]; exports: unknown; __onErr: (s: string) => void; _compile(text: string, file: string): void }

/**
 * Fills out[0 .. ceil(V/32)) with the matcher's next-token bitmask (bit 1 = allowed), without
 * the package's promise and copies. The instance must be initialised (any awaited call does).
 */
export function fillBitmask(xg: Xgrammar, matcher: XG.GrammarMatcher, vocabSize: number, out: Int32Array): void {
  const handle = (matcher as unknown as { handle: MatcherHandle }).handle;
  const vec = handle.GetNextTokenBitmask(vocabSize);
  try {
    out.set(xg.__binding().vecIntToView(vec).subarray(0, out.length));
  } finally {
    vec.delete();
  }
}
