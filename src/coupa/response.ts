import type { ZodType } from 'zod';
import { redact } from '../secrets.js';
import { CoupaResponseFormatError, CoupaResponseValidationError } from './errors.js';
import type { HttpResponse } from './http.js';
import { ExitCode } from '../errors.js';

/** First `n` characters on one line: enough to recognise an HTML login page or an XML error. */
export function excerpt(text: string, n = 120): string {
  // Redacted before it is cut: a cut through a secret would leave its first characters behind.
  const one = redact(text.replace(/\s+/g, ' ').trim());
  return one.length > n ? `${one.slice(0, n)}…` : one;
}

/**
 * The body as JSON, or a CoupaResponseFormatError. Coupa answers XML when it did not see our
 * Accept header, and proxies or SSO front ends answer HTML with status 200; both must stop the run
 * with a message pointing at the endpoint instead of failing later on a missing field.
 */
export function parseJson(res: HttpResponse, endpoint: string): unknown {
  const contentType = res.headers.get('content-type') ?? '(none)';
  const body = res.text;
  const looksMarkup = /html|xml/i.test(contentType) || body.trimStart().startsWith('<');
  if (looksMarkup) {
    throw new CoupaResponseFormatError(
      `${endpoint} answered ${res.status} with ${contentType}, not JSON (body starts "${excerpt(body, 60)}"). ` +
        'The URL may point at a login page or proxy rather than the Coupa API.',
      { endpoint, contentType },
    );
  }
  try {
    return JSON.parse(body);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new CoupaResponseFormatError(
      `${endpoint} answered ${res.status} with malformed JSON (${contentType}, ${body.length} bytes): ${excerpt(reason, 100)}.`,
      { endpoint, contentType },
    );
  }
}

interface Issue {
  path: PropertyKey[];
  message: string;
}

/** `roles.0.id`, or `(root)` for the value itself. */
export function fieldPath(path: readonly PropertyKey[]): string {
  return path.length === 0 ? '(root)' : path.map((p) => String(p)).join('.');
}

function describeIssue(issue: Issue): string {
  // zod's "Invalid input: expected number, received string" → "expected number, got string".
  return issue.message.replace(/^Invalid input: /, '').replace(/, received /, ', got ');
}

function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
  let v = value;
  for (const key of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[key];
  }
  return v;
}

function isUnsafeInteger(v: unknown): boolean {
  return typeof v === 'number' && Number.isInteger(v) && !Number.isSafeInteger(v);
}

/** Validates `value`; the error names the endpoint, the item (when given) and the field path. */
export function validate<T>(
  schema: ZodType<T>,
  value: unknown,
  endpoint: string,
  item?: { index: number; id?: unknown },
): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0] as Issue | undefined;
  const field = fieldPath(issue?.path ?? []);
  // Ids are exact or refused: a JSON number above 2^53 - 1 arrives rounded (…993 parses as …992),
  // and a rounded id names another object. zod's int() already refuses it; refusing is a bad-input
  // exit (2), not "Coupa answered something odd", because no retry or fix on our side can help.
  const path = issue?.path ?? [];
  if (path[path.length - 1] === 'id' && isUnsafeInteger(valueAt(value, path))) {
    throw new CoupaResponseValidationError(
      `${endpoint}: field \`${field}\` holds ${String(valueAt(value, path))}, an id above 2^53 - 1 that JSON numbers cannot hold exactly; refusing rather than using a rounded id.`,
      { endpoint, field, exitCode: ExitCode.usage },
    );
  }
  const where = item
    ? `item ${item.index}${typeof item.id === 'number' ? ` (id ${item.id})` : ''} field \`${field}\``
    : `field \`${field}\``;
  throw new CoupaResponseValidationError(
    `${endpoint}: ${where}: ${issue ? describeIssue(issue) : 'unexpected shape'}.`,
    { endpoint, field },
  );
}

/**
 * Coupa's error text from a 4xx body: `{"errors":{"user":["Login has already been taken"]}}`,
 * `{"errors":[...]}`, or OAuth's `{"error":…,"error_description":…}`. Undefined when the body has none.
 */
export function coupaErrorMessage(text: string): string | undefined {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!body || typeof body !== 'object') return undefined;
  const b = body as Record<string, unknown>;
  const parts: string[] = [];
  const collect = (v: unknown, prefix?: string): void => {
    if (typeof v === 'string') parts.push(prefix ? `${prefix}: ${v}` : v);
    else if (Array.isArray(v)) v.forEach((x) => collect(x, prefix));
    else if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if (typeof o.message === 'string') collect(o.message, prefix);
      else for (const [k, x] of Object.entries(o)) collect(x, k);
    }
  };
  if (b.errors !== undefined) collect(b.errors);
  else if (typeof b.error === 'string') {
    parts.push(typeof b.error_description === 'string' ? `${b.error}: ${b.error_description}` : b.error);
  }
  if (parts.length === 0) return undefined;
  return excerpt(parts.join('; '), 300);
}
