import * as http from 'node:http';
import * as https from 'node:https';
import { silentLogger, type Logger } from '../log.js';
import { redact, registerSecret } from '../secrets.js';
import { buildAssertion } from './assertion.js';
import { openConnection, type ConnectionOptions } from './connection.js';
import type { C1Credentials } from './credentials.js';
import type { C1Endpoint } from './endpoint.js';
import { C1AuthError, C1UnavailableError } from './errors.js';

/** An access token and when to stop using it. */
export interface C1Token {
  /** The `authorization` header value: `Bearer <token>`. */
  header: string;
  /** Epoch ms after which the cache fetches a new one. */
  renewAt: number;
  /** Epoch ms of the server's expiry (`expires_in` after the answer arrived). */
  expiresAt: number;
}

export interface TokenSourceOptions {
  creds: C1Credentials;
  endpoint: C1Endpoint;
  connection: ConnectionOptions;
  userAgent: string;
  logger?: Logger;
  /** Per token request; default 60 s. */
  timeoutMs?: number;
  now?: () => number;
}

/** At most this long before expiry a token is renewed; baton-sdk's oauth2 cache uses the same 10 s. */
export const RENEW_BEFORE_MS = 10_000;

/**
 * Client-credentials tokens for ConductorOne (`POST /auth/v1/token` with an EdDSA client assertion).
 * One token is shared by every call and renewed shortly before it expires; concurrent callers
 * share one request. `invalidate` drops a token the server refused, so the next call fetches anew.
 */
export class C1TokenSource {
  private current?: C1Token;
  private inflight?: Promise<C1Token>;
  private readonly now: () => number;
  private readonly logger: Logger;
  /** Token requests sent, for tests and logs. */
  fetches = 0;

  constructor(private readonly opts: TokenSourceOptions) {
    this.now = opts.now ?? Date.now;
    this.logger = opts.logger ?? silentLogger;
  }

  async header(signal?: AbortSignal): Promise<string> {
    const t = this.current;
    if (t && this.now() < t.renewAt) return t.header;
    this.inflight ??= this.fetch(signal).finally(() => (this.inflight = undefined));
    return (await this.inflight).header;
  }

  /** The server refused this header: forget it (unless a newer token already replaced it). */
  invalidate(header?: string): void {
    if (!header || this.current?.header === header) this.current = undefined;
  }

  private async fetch(signal?: AbortSignal): Promise<C1Token> {
    const { creds, endpoint } = this.opts;
    const body = new URLSearchParams({
      client_id: creds.clientId,
      grant_type: 'client_credentials',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: buildAssertion(creds, this.now()),
    }).toString();
    this.fetches++;
    this.logger.debug({ url: endpoint.tokenUrl }, 'requesting a ConductorOne token');
    const res = await postForm(endpoint, body, {
      connection: this.opts.connection,
      userAgent: this.opts.userAgent,
      timeoutMs: this.opts.timeoutMs ?? 60_000,
      signal,
    });
    const received = this.now();
    if (res.status !== 200) {
      const { code, detail } = oauthError(res.body);
      const what = `ConductorOne token request to ${endpoint.tokenUrl} failed: HTTP ${res.status}${detail ? ` (${detail})` : ''}`;
      if (res.status === 400 || res.status === 401 || res.status === 403) {
        // RFC 6749 §5.2: an unknown or revoked client is 401, or 400 with invalid_client. A 403 or
        // another 400 may come from something in between (a proxy, a WAF) and is not taken as final.
        const credentialsRefused = res.status === 401 || code === 'invalid_client';
        throw new C1AuthError(`${what}; the client credentials were refused.`, undefined, {
          credentialsRefused,
        });
      }
      throw new C1UnavailableError(`${what}.`);
    }
    let parsed: { access_token?: unknown; token_type?: unknown; expires_in?: unknown };
    try {
      parsed = JSON.parse(res.body) as typeof parsed;
    } catch {
      throw new C1UnavailableError(`ConductorOne token response from ${endpoint.tokenUrl} is not JSON.`);
    }
    if (typeof parsed.access_token !== 'string' || parsed.access_token === '') {
      throw new C1AuthError(`ConductorOne token response from ${endpoint.tokenUrl} holds no access token.`);
    }
    registerSecret(parsed.access_token);
    const expiresIn = typeof parsed.expires_in === 'number' && parsed.expires_in > 0 ? parsed.expires_in : 0;
    const lifetime = expiresIn * 1000;
    // Renew 10 s early, or halfway through a shorter life, so a short-lived token is still reused.
    const margin = Math.min(RENEW_BEFORE_MS, lifetime / 2);
    const token: C1Token = {
      header: `${tokenType(parsed.token_type)} ${parsed.access_token}`,
      expiresAt: received + lifetime,
      renewAt: received + lifetime - margin,
    };
    registerSecret(token.header);
    this.current = token;
    this.logger.debug({ expiresInSeconds: expiresIn }, 'received a ConductorOne token');
    return token;
  }
}

/** The authorization scheme as baton-sdk normalises `token_type`. */
function tokenType(raw: unknown): string {
  const t = typeof raw === 'string' ? raw : '';
  switch (t.toLowerCase()) {
    case '':
    case 'bearer':
      return 'Bearer';
    case 'mac':
      return 'MAC';
    case 'basic':
      return 'Basic';
    default:
      return t;
  }
}

/** The OAuth `error` code and `error: error_description` of an error body, shortened and scrubbed. */
function oauthError(body: string): { code?: string; detail?: string } {
  try {
    const j = JSON.parse(body) as { error?: unknown; error_description?: unknown; message?: unknown };
    const parts = [j.error, j.error_description ?? j.message].filter(
      (p): p is string => typeof p === 'string',
    );
    return {
      code: typeof j.error === 'string' ? j.error : undefined,
      detail: parts.length > 0 ? redact(parts.join(': ').slice(0, 200)) : undefined,
    };
  } catch {
    // Not JSON: say nothing rather than quote an HTML error page.
  }
  return {};
}

function postForm(
  ep: C1Endpoint,
  body: string,
  opts: { connection: ConnectionOptions; userAgent: string; timeoutMs: number; signal?: AbortSignal },
): Promise<{ status: number; body: string }> {
  const request = ep.scheme === 'https' ? https.request : http.request;
  return new Promise((resolve, reject) => {
    const req = request(
      {
        method: 'POST',
        host: ep.hostname,
        port: ep.port,
        path: '/auth/v1/token',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'content-length': Buffer.byteLength(body),
          'user-agent': opts.userAgent,
          accept: 'application/json',
        },
        createConnection: () => openConnection(ep, { ...opts.connection, alpn: ['http/1.1'] }) as never,
        timeout: opts.timeoutMs,
        signal: opts.signal,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          // A token answer is small; anything huge is not one.
          if (size <= 1 << 20) chunks.push(c);
        });
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', (err) => reject(unreachable(ep, err)));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${opts.timeoutMs / 1000} s`)));
    req.on('error', (err) => reject(opts.signal?.aborted ? opts.signal.reason : unreachable(ep, err)));
    req.end(body);
  });
}

function unreachable(ep: C1Endpoint, err: Error): C1UnavailableError {
  return new C1UnavailableError(`ConductorOne token endpoint ${ep.tokenUrl} unreachable: ${err.message}.`, {
    cause: err,
  });
}
