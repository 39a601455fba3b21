import { randomBytes, verify, type KeyObject } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';

export const TOKEN_PATH = '/auth/v1/token';
const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const FORM_FIELDS = ['client_id', 'grant_type', 'client_assertion_type', 'client_assertion'];
const MAX_BODY_BYTES = 64 * 1024;

export type AnyRequest = IncomingMessage | Http2ServerRequest;
export type AnyResponse = ServerResponse | Http2ServerResponse;

/** One POST to the token endpoint, as the fake saw it. */
export interface TokenRequestRecord {
  at: Date;
  /** True when a token was issued. */
  ok: boolean;
  /** Why it was refused (also the `error_description` of the 401 body). */
  reason?: string;
  httpVersion: string;
  userAgent?: string;
  /** Decoded JWS header and claims, when the assertion could be parsed (for tests on `aud` shape etc.). */
  assertion?: { header: Record<string, unknown>; claims: Record<string, unknown> };
}

/** Why a bearer token was refused on an RPC. */
export type TokenRefusal = 'missing' | 'unknown' | 'expired' | 'revoked';

interface IssuedToken {
  expiresAt: number;
  revoked: boolean;
}

/** Bearer tokens the fake issued; tests shorten their lifetime or revoke them to exercise renewal. */
export class FakeC1Tokens {
  private readonly tokens = new Map<string, IssuedToken>();

  constructor(public ttlSeconds: number) {}

  issue(): { token: string; expiresIn: number } {
    const token = randomBytes(24).toString('base64url');
    this.tokens.set(token, { expiresAt: Date.now() + this.ttlSeconds * 1000, revoked: false });
    return { token, expiresIn: this.ttlSeconds };
  }

  /** Checks an `authorization` header; baton sends the type as `Bearer` (any case is accepted). */
  check(authorization: string | null | undefined): { ok: true } | { ok: false; reason: TokenRefusal } {
    const m = /^bearer\s+(\S+)$/i.exec(authorization?.trim() ?? '');
    if (!m) return { ok: false, reason: 'missing' };
    const info = this.tokens.get(m[1]!);
    if (!info) return { ok: false, reason: 'unknown' };
    if (info.revoked) return { ok: false, reason: 'revoked' };
    if (Date.now() >= info.expiresAt) return { ok: false, reason: 'expired' };
    return { ok: true };
  }

  revokeAll(): void {
    for (const info of this.tokens.values()) info.revoked = true;
  }

  expireAll(): void {
    for (const info of this.tokens.values()) info.expiresAt = 0;
  }

  get issuedCount(): number {
    return this.tokens.size;
  }
}

class Refused extends Error {}

function refuse(reason: string): never {
  throw new Refused(reason);
}

function decodeJsonPart(part: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    refuse(`client_assertion ${what} is not base64url JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    refuse(`client_assertion ${what} is not a JSON object`);
  }
  return value as Record<string, unknown>;
}

export interface AssertionExpectations {
  clientId: string;
  audience: string;
  publicKey: KeyObject;
}

/**
 * The checks of a private_key_jwt client assertion as baton's peer builds it (c1-service-mode §2.3):
 * EdDSA compact JWS with a 32-hex nonce, iss = sub = client id, aud = the client-id host as a
 * string or one-element array, nbf <= now <= exp, iat present.
 */
export function checkAssertion(
  jws: string,
  expect: AssertionExpectations,
  nowSeconds = Math.floor(Date.now() / 1000),
): { header: Record<string, unknown>; claims: Record<string, unknown> } {
  const parts = jws.split('.');
  if (parts.length !== 3) refuse('client_assertion is not a compact JWS (three dot-separated parts)');
  const [h, p, s] = parts as [string, string, string];
  const header = decodeJsonPart(h, 'header');
  const claims = decodeJsonPart(p, 'payload');
  const result = { header, claims };
  if (header.alg !== 'EdDSA') refuse(`client_assertion alg must be EdDSA, got ${String(header.alg)}`);
  if (typeof header.nonce !== 'string' || !/^[0-9a-f]{32}$/.test(header.nonce)) {
    refuse('client_assertion header nonce must be 32 lowercase hex characters');
  }
  if ('crit' in header) refuse('client_assertion header crit is not supported');
  const signature = Buffer.from(s, 'base64url');
  if (signature.length !== 64) refuse('client_assertion signature is not a 64-byte Ed25519 signature');
  if (!verify(null, Buffer.from(`${h}.${p}`), expect.publicKey, signature)) {
    refuse('client_assertion signature does not verify against the client key');
  }
  if (claims.iss !== expect.clientId) refuse('client_assertion iss must equal the client id');
  if (claims.sub !== expect.clientId) refuse('client_assertion sub must equal the client id');
  const aud = claims.aud;
  const audOk =
    aud === expect.audience || (Array.isArray(aud) && aud.length === 1 && aud[0] === expect.audience);
  if (!audOk) refuse(`client_assertion aud must be ${expect.audience} (string or one-element array)`);
  for (const claim of ['exp', 'nbf', 'iat']) {
    if (typeof claims[claim] !== 'number' || !Number.isFinite(claims[claim])) {
      refuse(`client_assertion ${claim} must be a NumericDate`);
    }
  }
  if ((claims.nbf as number) > nowSeconds) refuse('client_assertion is not valid yet (nbf)');
  if ((claims.exp as number) < nowSeconds) refuse('client_assertion has expired (exp)');
  return result;
}

async function readBody(req: AnyRequest): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) refuse('request body too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function sendJson(res: AnyResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  (res as ServerResponse).writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  res.end(text);
}

/**
 * `POST /auth/v1/token`: a form with exactly the four fields baton sends, checked strictly. Every
 * refusal is a 401 with `{"error":"invalid_client","error_description":...}`; baton's peer turns
 * any non-200 into Unauthenticated, so the description is only for people reading test output.
 */
export async function handleTokenRequest(
  req: AnyRequest,
  res: AnyResponse,
  expect: AssertionExpectations,
  tokens: FakeC1Tokens,
  record: (r: TokenRequestRecord) => void,
): Promise<void> {
  const rec: TokenRequestRecord = {
    at: new Date(),
    ok: false,
    httpVersion: req.httpVersion,
    userAgent: req.headers['user-agent'],
  };
  try {
    if (req.method !== 'POST') refuse(`method ${req.method} not allowed; use POST`);
    const type = String(req.headers['content-type'] ?? '')
      .split(';')[0]!
      .trim()
      .toLowerCase();
    if (type !== 'application/x-www-form-urlencoded') {
      refuse('content-type must be application/x-www-form-urlencoded');
    }
    const form = new URLSearchParams(await readBody(req));
    const names = [...form.keys()];
    const extra = names.filter((n) => !FORM_FIELDS.includes(n));
    if (extra.length) refuse(`unexpected form field(s): ${extra.join(', ')}`);
    for (const name of FORM_FIELDS) {
      const count = form.getAll(name).length;
      if (count === 0) refuse(`missing form field ${name}`);
      if (count > 1) refuse(`form field ${name} given ${count} times`);
    }
    if (form.get('grant_type') !== 'client_credentials') refuse('grant_type must be client_credentials');
    if (form.get('client_assertion_type') !== ASSERTION_TYPE) {
      refuse(`client_assertion_type must be ${ASSERTION_TYPE}`);
    }
    if (form.get('client_id') !== expect.clientId) refuse('unknown client_id');
    try {
      rec.assertion = checkAssertion(form.get('client_assertion')!, expect);
    } catch (err) {
      // Keep the decoded parts in the record even when a check fails, when they parse.
      const [h, p] = form.get('client_assertion')!.split('.');
      try {
        rec.assertion = {
          header: JSON.parse(Buffer.from(h ?? '', 'base64url').toString()) as Record<string, unknown>,
          claims: JSON.parse(Buffer.from(p ?? '', 'base64url').toString()) as Record<string, unknown>,
        };
      } catch {
        // not decodable: nothing more to record
      }
      throw err;
    }
    const { token, expiresIn } = tokens.issue();
    rec.ok = true;
    record(rec);
    sendJson(res, 200, { access_token: token, token_type: 'Bearer', expires_in: expiresIn });
  } catch (err) {
    if (!(err instanceof Refused)) throw err;
    rec.reason = err.message;
    record(rec);
    sendJson(res, 401, { error: 'invalid_client', error_description: err.message });
  }
}
