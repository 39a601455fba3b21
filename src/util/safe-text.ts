/**
 * The one sanitiser for text a person reads on a terminal: console tables and their headings,
 * error lines, warnings. Coupa data is typed by whoever can edit a name, and servers put anything in
 * an error body; passed through raw, an ESC sequence clears the reviewer's screen or recolours a
 * row, `\r` or backspace overwrites what came before, and a bidi override makes a row read as
 * something else. Every such character is shown as a visible escape instead (`\x1b`, `\u202e`),
 * so the reader sees that it was there, and nothing is silently dropped.
 *
 * Machine formats (`-o json`, `-o csv`, JSON logs) keep the exact value: JSON escapes controls
 * itself, and a spreadsheet needs the real text.
 */

/**
 * C0 controls (tab and newline included: one value is one line), DEL, C1 controls, and every
 * character that changes text direction or is invisible formatting: LRM/RLM/ALM, the embeddings
 * and overrides U+202A–U+202E, the isolates U+2066–U+2069, and the line/paragraph separators.
 */
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

function escapeChar(c: string): string {
  const code = c.charCodeAt(0);
  if (code <= 0xff) return `\\x${code.toString(16).padStart(2, '0')}`;
  return `\\u${code.toString(16).padStart(4, '0')}`;
}

/** `text` with every control and direction character shown as an escape; a backslash stays as is. */
export function safeText(text: string): string {
  return text.replace(UNSAFE, escapeChar);
}

/** True when `safeText` would change something. */
export function hasUnsafeText(text: string): boolean {
  UNSAFE.lastIndex = 0;
  const found = UNSAFE.test(text);
  UNSAFE.lastIndex = 0;
  return found;
}

/**
 * Several lines (a log line from pino-pretty, a multi-line message): each line made safe, the line
 * breaks kept. Only `\n` separates lines; a `\r` inside is escaped like any other control.
 */
export function safeLines(text: string): string {
  return text
    .split('\n')
    .map((line) => safeText(line))
    .join('\n');
}

/** Default widest console cell, in characters; the full value is in `-o json` / `-o csv`. */
export const DEFAULT_CELL_WIDTH = 80;

/**
 * A value for one console table cell: made safe, then cut to `max` characters with a marker giving
 * the full length, so a 2 MB name cannot make every row of a table 2 MB wide. Cuts never split a
 * surrogate pair.
 */
export function safeCell(value: string, max = DEFAULT_CELL_WIDTH): string {
  // Escape only a bounded prefix: a huge value costs a bounded amount of work.
  const bounded = value.length > max * 8;
  const safe = safeText(bounded ? value.slice(0, max * 8) : value);
  if (!bounded && safe.length <= max) return safe;
  const marker = `… (${value.length} chars)`;
  return sliceChars(safe, Math.max(1, max - marker.length)) + marker;
}

function sliceChars(text: string, n: number): string {
  let out = text.slice(0, n);
  const last = out.charCodeAt(out.length - 1);
  if (last >= 0xd800 && last <= 0xdbff) out = out.slice(0, -1);
  return out;
}

const RAW_IN_JSON = /[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/**
 * A JSON text (a JSON log line) with the characters JSON may carry raw but a terminal acts on
 * (DEL, C1 controls, direction marks) written as `\uXXXX` escapes instead. Only string contents
 * can hold them, so the parsed value is exactly the same; `cat`-ing the log stays safe.
 */
export function terminalSafeJson(json: string): string {
  return json.replace(RAW_IN_JSON, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
