// Chat prompts: tokenizer_config.json's chat_template rendered with @huggingface/jinja the way
// transformers' apply_chat_template renders it (trim_blocks + lstrip_blocks, raise_exception,
// strftime_now), then tokenized.
//
// Special tokens: the rendered prompt holds special tokens on purpose (<|start_header_id|>,
// <|im_start|>, <s>), so it is tokenized with special tokens parsed — which also parses any that
// a user wrote inside a message's content. HF apply_chat_template and vLLM's chat endpoint do
// exactly this (they tokenize the rendered string; vLLM with special tokens parsed), and we do
// the same. A caller that must not let content forge turns should reject or escape such strings
// in content first (containsSpecialToken() finds them).
//
// BOS: the template writes it when the model wants it (Llama 3's "{{ bos_token }}", Llama 2's
// "<s>[INST]"), so nothing is added around the rendered text (HF: add_special_tokens=False).
import { Environment, Interpreter, parse, tokenize } from '@huggingface/jinja';
import { ChatTemplateError } from '../errors.js';
import type { HfTokenizer } from './hf.js';
import type { ChatMessage } from './types.js';

export type { ChatMessage };

export interface ChatOptions {
  /** Append the assistant header so the model answers (default true). */
  addGenerationPrompt?: boolean;
  /** The clock strftime_now reads (Llama 3.1+ write "Today Date: 26 Jul 2024"); default now. */
  now?: Date;
  /** More template variables: enable_thinking, date_string, tools, ... (enable_thinking and
   *  date_string undefined when absent; tools and documents null, as transformers passes them). */
  vars?: Record<string, unknown>;
}

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** Python's datetime.strftime in the C locale (local time), for the codes chat templates use. */
export function strftime(d: Date, format: string): string {
  return format.replace(/%[a-zA-Z%]/g, (code) => {
    switch (code) {
      case '%Y': return String(d.getFullYear());
      case '%y': return pad(d.getFullYear() % 100);
      case '%m': return pad(d.getMonth() + 1);
      case '%d': return pad(d.getDate());
      case '%B': return MONTHS[d.getMonth()];
      case '%b': return MONTHS[d.getMonth()].slice(0, 3);
      case '%A': return DAYS[d.getDay()];
      case '%a': return DAYS[d.getDay()].slice(0, 3);
      case '%H': return pad(d.getHours());
      case '%M': return pad(d.getMinutes());
      case '%S': return pad(d.getSeconds());
      case '%%': return '%';
      default: throw new ChatTemplateError(`chat template: strftime_now code ${code} is not supported (supported: %Y %y %m %d %B %b %A %a %H %M %S %%)`);
    }
  });
}

/** Python's range(stop) / range(start, stop[, step]). */
function pyRange(start: number, stop?: number, step = 1): number[] {
  if (stop === undefined) { stop = start; start = 0; }
  if (step === 0) throw new ChatTemplateError('chat template: range() step must not be zero');
  const out: number[] = [];
  for (let i = start; step > 0 ? i < stop : i > stop; i += step) out.push(i);
  return out;
}

const shown = (v: unknown): string => (v === undefined ? 'nothing' : JSON.stringify(v)?.slice(0, 80) ?? String(v));

/**
 * Checks the shape of a messages list: [{role: string, content: string}, ...], at least one.
 * The error names the exact field (messages[2].content), since a batch line may hold many turns.
 * Content must be a string: OpenAI's list-of-parts form is not supported.
 */
export function checkMessages(messages: unknown, where = 'messages'): ChatMessage[] {
  if (!Array.isArray(messages) || messages.length === 0) {
    throw new ChatTemplateError(`${where}: expected a non-empty array of {"role", "content"}, got ${shown(messages)}`);
  }
  messages.forEach((m, i) => {
    if (typeof m !== 'object' || m === null || Array.isArray(m)) {
      throw new ChatTemplateError(`${where}[${i}]: expected {"role": string, "content": string}, got ${shown(m)}`);
    }
    for (const k of ['role', 'content'] as const) {
      if (typeof m[k] !== 'string') throw new ChatTemplateError(`${where}[${i}].${k}: expected a string, got ${shown(m[k])}`);
    }
  });
  return messages as ChatMessage[];
}

// a batch renders one template per request: parse it once (a model has one or two)
const PARSED = new Map<string, ReturnType<typeof parse>>();

/** Renders a chat template. bos_token / eos_token as tokenizer_config names them (null: undefined). */
export function renderChatTemplate(
  template: string, messages: ChatMessage[], tokens: { bos_token: string | null; eos_token: string | null },
  opts: ChatOptions = {},
): string {
  let parsed = PARSED.get(template);
  if (!parsed) {
    try {
      parsed = parse(tokenize(template, { lstrip_blocks: true, trim_blocks: true }));
    } catch (e) {
      throw new ChatTemplateError(`chat_template does not parse: ${(e as Error).message}`);
    }
    if (PARSED.size >= 16) PARSED.clear();
    PARSED.set(template, parsed);
  }
  const now = opts.now ?? new Date();
  // what transformers passes: tools and documents as None, special tokens only when set
  const ctx: Record<string, unknown> = {
    messages: messages.map((m) => ({ ...m })),
    tools: null,
    documents: null,
    add_generation_prompt: opts.addGenerationPrompt ?? true,
    raise_exception: (msg: unknown) => { throw new ChatTemplateError(`chat template raised: ${String(msg)}`); },
    strftime_now: (format: unknown) => strftime(now, String(format)),
  };
  if (tokens.bos_token !== null) ctx.bos_token = tokens.bos_token;
  if (tokens.eos_token !== null) ctx.eos_token = tokens.eos_token;
  Object.assign(ctx, opts.vars);
  // Template.render() with our own raise_exception / strftime_now: its environment declares
  // both itself and refuses to redeclare them, so the globals are set here instead
  const env = new Environment();
  const globals: Record<string, unknown> = { false: false, true: true, none: null, False: false, True: true, None: null, range: pyRange };
  try {
    for (const [k, v] of Object.entries({ ...globals, ...ctx })) env.set(k, v);
    return new Interpreter(env).run(parsed).value as string;
  } catch (e) {
    if (e instanceof ChatTemplateError) throw e;
    throw new ChatTemplateError(`chat_template failed to render: ${(e as Error).message}`);
  }
}

/** The rendered prompt and its ids, as a chat completion request sees them. */
export function applyChatTemplate(tok: HfTokenizer, messages: unknown, opts: ChatOptions = {}): { text: string; ids: number[] } {
  if (tok.chatTemplate === null) {
    throw new ChatTemplateError(`${tok.src}: this model has no chat template (tokenizer_config.json has no "chat_template", and there is no chat_template.jinja)`);
  }
  const text = renderChatTemplate(tok.chatTemplate, checkMessages(messages), { bos_token: tok.bosToken, eos_token: tok.eosToken }, opts);
  return { text, ids: tok.encode(text, true, false) };
}

/** Whether some special token's text occurs in s (for callers that refuse it in chat content). */
export function containsSpecialToken(tok: HfTokenizer, s: string): string | null {
  for (const t of tok.specialTokens) if (s.includes(t)) return t;
  return null;
}
