/**
 * Every secret the process learns (client secret, access tokens) is registered here, and every
 * byte this project writes to a log, an error message, an audit log or stdout goes through
 * `redact`. Scrubbing at the output edge, rather than trusting each call site to leave secrets
 * out, is what makes "never in logs at any level" hold for code written later too.
 */
const secrets = new Set<string>();

/** Shorter values would redact innocent text (and are not real secrets anyway). */
const MIN_SECRET_LENGTH = 6;
export const REDACTED = '[REDACTED]';

export function registerSecret(value: string | undefined | null): void {
  if (value && value.length >= MIN_SECRET_LENGTH) secrets.add(value);
}

export function forgetSecrets(): void {
  secrets.clear();
}

export function redact(text: string): string {
  let out = text;
  for (const s of secrets) {
    if (out.includes(s)) out = out.split(s).join(REDACTED);
    // A secret may also appear URL- or JSON-escaped inside a logged request body.
    const enc = encodeURIComponent(s);
    if (enc !== s && out.includes(enc)) out = out.split(enc).join(REDACTED);
  }
  return out;
}
