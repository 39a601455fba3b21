import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { CoupaClient, READ_SCOPES, type CoupaClientOptions } from '../../../src/coupa/index.js';
import { testClient } from '../../helpers/client.js';

export interface RecordedRequest {
  method: string;
  url: URL;
  headers: IncomingMessage['headers'];
  body: string;
  at: number;
}

export type Handler = (req: RecordedRequest, res: ServerResponse) => void | Promise<void>;

export interface FakeServer {
  url: string;
  requests: RecordedRequest[];
  /** API requests only (not /oauth2/token). */
  apiRequests(): RecordedRequest[];
  tokenRequests(): RecordedRequest[];
  close(): Promise<void>;
}

export const CLIENT_ID = 'test-client-id';
export const CLIENT_SECRET = 'sEcReT-abcdef-123456';

/**
 * A tiny HTTP server on 127.0.0.1 that records every request. `/oauth2/token` answers with a
 * fresh token (tok-1, tok-2, …) for the test credentials unless `token` overrides it; everything
 * else goes to `api`.
 */
export async function startFake(opts: {
  api?: Handler;
  token?: Handler;
  tokenLifetimeS?: number;
}): Promise<FakeServer & { issuedTokens: string[] }> {
  const requests: RecordedRequest[] = [];
  const issuedTokens: string[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const rec: RecordedRequest = {
      method: req.method ?? 'GET',
      url: new URL(req.url ?? '/', 'http://127.0.0.1'),
      headers: req.headers,
      body: Buffer.concat(chunks).toString('utf8'),
      at: performance.now(),
    };
    requests.push(rec);
    try {
      if (rec.url.pathname === '/oauth2/token') {
        if (opts.token) return await opts.token(rec, res);
        const form = new URLSearchParams(rec.body);
        if (form.get('client_id') !== CLIENT_ID || form.get('client_secret') !== CLIENT_SECRET) {
          return json(res, 400, { error: 'invalid_client' });
        }
        const token = `tok-${issuedTokens.length + 1}-${'x'.repeat(20)}`;
        issuedTokens.push(token);
        return json(res, 200, {
          access_token: token,
          token_type: 'bearer',
          expires_in: opts.tokenLifetimeS ?? 86400,
          scope: form.get('scope'),
        });
      }
      if (opts.api) return await opts.api(rec, res);
      json(res, 404, { errors: { base: ['not found'] } });
    } catch (err) {
      res.statusCode = 500;
      res.end(String(err));
    }
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    issuedTokens,
    apiRequests: () => requests.filter((r) => r.url.pathname !== '/oauth2/token'),
    tokenRequests: () => requests.filter((r) => r.url.pathname === '/oauth2/token'),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/**
 * A client with the fake's credentials and read scopes, pacing off so tests don't wait on the
 * limiter; `extra` overrides any option (a wrong secret, other scopes, retry timings, a logger).
 */
export function fakeClient(url: string, extra: Partial<CoupaClientOptions> = {}): CoupaClient {
  return testClient(
    { url, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET },
    { scopes: READ_SCOPES },
    extra,
  );
}

export function json(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(JSON.stringify(body));
}

export function bearer(req: RecordedRequest): string | undefined {
  return /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
}

/** Error details are asserted field by field in tests; `any` keeps that terse. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type CaughtError = any;

/** Use as `.then(unexpected, caught)`: the error a promise rejected with; resolving fails the test. */
export function unexpected(value: unknown): never {
  throw new Error(`expected a rejection, got ${JSON.stringify(value)?.slice(0, 200)}`);
}
export function caught(err: unknown): CaughtError {
  return err;
}
