// Structured outputs for one engine: the model's vocabulary as xgrammar sees it, each distinct
// spec compiled once per job (keyed by specKey), and one matcher per choice (a Constraint) that
// advances only on committed tokens and keeps the bitmask for the next one.
//
// Untrusted text (a user's EBNF, regex, or a schema's literals) is parsed first in a separate
// "probe" xgrammar instance: xgrammar aborts its whole WASM instance on a syntax error, so a bad
// request may kill only the probe (reloaded for the next one), never the instance that holds
// the compiled grammars of the requests still running.
import type * as XG from '@mlc-ai/web-xgrammar';
import { RequestError } from '../errors.js';
import { BYTE_TO_CHAR } from '../tokenizer/byte-level.js';
import type { Tokenizer } from '../tokenizer/types.js';
import { anyObjectEbnf, ebnfLiteral, schemaToEbnf, SchemaError } from './json-schema.js';
import { specKey, type StructuredSpec } from './spec.js';
import { fillBitmask, loadXgrammar, type Xgrammar } from './xgrammar.js';
import { UTF8_STATES, utf8Table, type Utf8Table } from './utf8-mask.js';

export interface StructuredStats {
  compiled: number;    // distinct specs compiled
  cacheHits: number;   // requests that reused one
  compileMs: number;   // wall time in compiles (probe + xgrammar), tokenizer setup included
  maskMs: number;      // time filling next-token masks
  masks: number;       // masks filled
}

export class GrammarEngine {
  readonly stats: StructuredStats = { compiled: 0, cacheHits: 0, compileMs: 0, maskMs: 0, masks: 0 };
  readonly words: number;
  private main: Promise<{ xg: Xgrammar; info: XG.TokenizerInfo; compiler: XG.GrammarCompiler }> | null = null;
  private probe: Xgrammar | null = null;
  private probeErr: string[] = [];
  private readonly cache = new Map<string, Promise<XG.CompiledGrammar>>();
  private utf8: Utf8Table | null = null; // what keeps the output valid UTF-8, per automaton state

  constructor(private readonly tok: Tokenizer, readonly vocabSize: number, private readonly stopIds: readonly number[]) {
    this.words = Math.ceil(vocabSize / 32);
  }

  /** The compiled grammar of a spec (cached); a spec that cannot compile throws RequestError naming its field. */
  compile(spec: StructuredSpec, where: string): Promise<XG.CompiledGrammar> {
    const key = specKey(spec);
    const hit = this.cache.get(key);
    if (hit !== undefined) {
      this.stats.cacheHits++;
      return hit;
    }
    const p = this.compileNew(spec, where);
    this.cache.set(key, p);
    p.catch(() => this.cache.delete(key)); // a failure is that request's; the next one gets its own message
    return p;
  }

  /** A fresh matcher for one choice, its mask ready for the first token. */
  async constraint(compiled: XG.CompiledGrammar): Promise<Constraint> {
    const { xg } = await this.setup();
    const m = await xg.GrammarMatcher.createGrammarMatcher(compiled);
    return new Constraint(this, xg, m);
  }

  /** Fills mask from the matcher, keeping only the tokens that leave valid UTF-8 from `state`. */
  fill(xg: Xgrammar, m: XG.GrammarMatcher, mask: Int32Array, state: number): void {
    const t0 = performance.now();
    fillBitmask(xg, m, this.vocabSize, mask);
    const ok = this.utf8!.allowed[state];
    for (let j = 0; j < ok.length; j++) mask[j] &= ok[j];
    this.stats.maskMs += performance.now() - t0;
    this.stats.masks++;
  }

  /** The UTF-8 automaton's state after token id. */
  nextState(state: number, id: number): number {
    return this.utf8!.next[id * UTF8_STATES + state];
  }

  dispose(): void {
    void this.main?.then(({ info, compiler }) => { compiler.dispose(); info.dispose(); });
    for (const c of this.cache.values()) void c.then((g) => g.dispose(), () => {});
    this.cache.clear();
  }

  private async compileNew(spec: StructuredSpec, where: string): Promise<XG.CompiledGrammar> {
    const t0 = performance.now();
    try {
      const ebnf = await this.checkedEbnf(spec, where);
      const { compiler } = await this.setup();
      const g = await compiler.compileGrammar(ebnf);
      this.stats.compiled++;
      return g;
    } finally {
      this.stats.compileMs += performance.now() - t0;
    }
  }

  /** The spec as EBNF that xgrammar has parsed once already (in the probe instance). */
  private async checkedEbnf(spec: StructuredSpec, where: string): Promise<string> {
    const bad = (detail: string, field = spec.field) => new RequestError('invalid_structured_output', `${where}: ${field}: ${detail}`);
    let ebnf: string;
    switch (spec.kind) {
      case 'json':
        try {
          ebnf = schemaToEbnf(spec.schema);
        } catch (e) {
          if (e instanceof SchemaError) throw bad(e.message.slice(e.path.length + 2), spec.field + e.path.slice(1));
          throw e;
        }
        break;
      case 'json_object': ebnf = anyObjectEbnf(); break;
      case 'choice': ebnf = `root ::= ${spec.choices.map(ebnfLiteral).join(' | ')}`; break;
      case 'grammar': ebnf = spec.ebnf; break;
      // the probe's conversion is the check: its output is xgrammar's own EBNF
      case 'regex': return this.probeCall((xg) => xg.Grammar.fromStructuralTag({ type: 'structural_tag', format: { type: 'regex', pattern: spec.pattern } }), bad, 'not a regular expression xgrammar can use');
    }
    await this.probeCall((xg) => xg.Grammar.fromEBNF(ebnf), bad, 'not a grammar xgrammar can use');
    return ebnf;
  }

  /** Runs f in the probe instance; its grammar's text, or the error xgrammar printed (probe then replaced). */
  private async probeCall(f: (xg: Xgrammar) => Promise<XG.Grammar>, bad: (d: string) => RequestError, what: string): Promise<string> {
    this.probe ??= loadXgrammar((line) => this.probeErr.push(line));
    this.probeErr = [];
    let g: XG.Grammar;
    try {
      g = await f(this.probe);
    } catch (e) {
      this.probe = null; // aborted: a dead instance
      const said = this.probeErr.find((l) => /error/i.test(l)) ?? (e as Error).message ?? String(e);
      throw bad(`${what}: ${said.replace(/^\[FATAL\] \S+ /, '').trim()}`);
    }
    try {
      return g.toString();
    } finally {
      g.dispose();
    }
  }

  /** The main instance with the model's vocabulary (built once, on the first structured request). */
  private setup() {
    this.main ??= (async () => {
      const xg = loadXgrammar((line) => process.stderr.write(`xgrammar: ${line}\n`));
      const vocab = this.vocabStrings();
      const info = await xg.TokenizerInfo.createTokenizerInfo(vocab, 'byte_level', false, this.vocabSize, [...this.stopIds]);
      const compiler = await xg.GrammarCompiler.createGrammarCompiler(info, true);
      return { xg, info, compiler };
    })();
    return this.main;
  }

  /**
   * Every token as its bytes in the byte-level alphabet (one vocabulary type for every
   * tokenizer: tokenBytes already resolved SentencePiece's ▁ and <0xNN>). Special tokens get ""
   * (xgrammar never allows those, except the stop ids), as do ids the tokenizer lacks.
   */
  private vocabStrings(): string[] {
    const V = this.vocabSize, n = Math.min(V, this.tok.vocabSize);
    const out = new Array<string>(V).fill('');
    const textless = (id: number) => this.tok.isSpecial(id) || this.stopIds.includes(id);
    for (let id = 0; id < n; id++) {
      if (textless(id)) continue;
      let s = '';
      for (const b of this.tok.tokenBytes(id)) s += BYTE_TO_CHAR[b];
      out[id] = s;
    }
    this.utf8 = utf8Table(V, (id) => (textless(id) ? null : this.tok.tokenBytes(id)), n);
    return out;
  }
}

/** One choice's grammar state: accepts committed tokens; `mask` is always for the next one. */
export class Constraint {
  readonly mask: Int32Array;
  private utf8State = 0; // at a character boundary
  constructor(private readonly engine: GrammarEngine, private readonly xg: Xgrammar, private readonly m: XG.GrammarMatcher) {
    this.mask = new Int32Array(engine.words);
    engine.fill(xg, m, this.mask, this.utf8State);
  }

  /** Advances by a sampled token; false if the grammar rejects it (the mask allowed it: a bug). */
  accept(id: number): boolean {
    if (!this.m.acceptToken(id)) return false;
    this.utf8State = this.engine.nextState(this.utf8State, id);
    if (!this.m.isTerminated()) this.engine.fill(this.xg, this.m, this.mask, this.utf8State);
    return true;
  }

  /** The grammar is complete and has taken its stop token. */
  get terminated(): boolean { return this.m.isTerminated(); }

  dispose(): void { this.m.dispose(); }
}
