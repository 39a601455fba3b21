/**
 * Every secret the process learns (client secret, access tokens) is registered here, and every
 * byte this project writes to a log, an error message, an audit log or stdout goes through
 * `redact`. Scrubbing at the output edge, rather than trusting each call site to leave secrets
 * out, is what makes "never in logs at any level" hold for code written later too.
 *
 * A secret travels in more spellings than its own: percent-encoded in a URL, form-encoded in the
 * token request (space as `+`, and `! ' ( ) ~` escaped, unlike encodeURIComponent), JSON-escaped
 * in a body, HTML-escaped on an error page, and base64 inside a Basic header. A proxy or server
 * that echoes our request back may use any of them, in either hex case, so each is redacted.
 * Every length counts: a short secret is a weak secret, not a public one.
 */
const secrets = new Set<string>();
/** Basic-header spellings of `id:secret`, registered with the client id. */
const basics = new Set<string>();
let pattern: RegExp | undefined;

export const REDACTED = '[REDACTED]';

export function registerSecret(value: string | undefined | null): void {
  if (!value || secrets.has(value)) return;
  secrets.add(value);
  pattern = undefined;
}

/**
 * The client id and secret as they would sit in an `Authorization: Basic` header, both plain and
 * form-encoded first (RFC 6749 §2.3.1 asks for the latter; many clients do the former).
 */
export function registerBasicCredentials(clientId: string, secret: string): void {
  registerSecret(secret);
  for (const pair of [`${clientId}:${secret}`, `${formEncode(clientId)}:${formEncode(secret)}`]) {
    const b64 = Buffer.from(pair, 'utf8').toString('base64');
    basics.add(b64);
    basics.add(b64.replace(/=+$/, ''));
  }
  pattern = undefined;
}

export function forgetSecrets(): void {
  secrets.clear();
  basics.clear();
  pattern = undefined;
}

export function redact(text: string): string {
  if (secrets.size === 0 && basics.size === 0) return text;
  pattern ??= buildPattern();
  return text.replace(pattern, REDACTED);
}

/** Every spelling of every secret we redact (exported for tests that search output files). */
export function spellingsOf(secret: string): string[] {
  const json = JSON.stringify(secret).slice(1, -1);
  const jsonAscii = json.replace(
    /[^\x20-\x7e]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  const out = new Set([
    secret,
    encodeURIComponent(secret),
    formEncode(secret),
    // encodeURIComponent plus the characters RFC 3986 reserves but it leaves alone.
    encodeURIComponent(secret).replace(/[!'()*~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`),
    json,
    jsonAscii,
    json.replace(/\//g, '\\/'),
    jsonAscii.replace(/\//g, '\\/'),
    htmlEscape(secret),
  ]);
  return [...out].filter((s) => s !== '');
}

function formEncode(value: string): string {
  return new URLSearchParams({ v: value }).toString().slice(2);
}

function htmlEscape(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A percent escape matches in either hex case (`%2F` and `%2f` are the same byte). */
function caseFreeHex(escaped: string): string {
  return escaped.replace(/%([0-9A-Fa-f])([0-9A-Fa-f])/g, (_, a: string, b: string) => {
    const cls = (h: string) => (/[a-f]/i.test(h) ? `[${h.toLowerCase()}${h.toUpperCase()}]` : h);
    return `%${cls(a)}${cls(b)}`;
  });
}

function buildPattern(): RegExp {
  const spellings = new Set<string>(basics);
  for (const s of secrets) for (const v of spellingsOf(s)) spellings.add(v);
  // Longest first, so a spelling that contains another is replaced whole.
  const alternatives = [...spellings]
    .sort((a, b) => b.length - a.length)
    .map((s) => caseFreeHex(escapeRegExp(s)));
  return new RegExp(alternatives.join('|'), 'g');
}
