import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verify } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCredentials } from '../../src/c1/credentials.js';
import { resolveEndpoint } from '../../src/c1/endpoint.js';
import { C1TokenSource } from '../../src/c1/token.js';
import { createTrustContext } from '../../src/c1/trust.js';
import { C1AuthError, C1EndpointError, C1UnavailableError } from '../../src/c1/errors.js';
import { testCredentials } from './keys.js';

/** A token endpoint that checks the assertion for real and answers as the test says. */
const c = testCredentials('acme.conductor.one');
let server: Server;
let port = 0;
let answer: { status: number; body: unknown } = { status: 200, body: {} };
const requests: Array<Record<string, string>> = [];
let issued = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += String(d)));
    req.on('end', () => {
      const form = Object.fromEntries(new URLSearchParams(body));
      requests.push({ ...form, path: req.url ?? '', contentType: req.headers['content-type'] ?? '' });
      const [h, p, s] = (form.client_assertion ?? '').split('.');
      const ok = verify(null, Buffer.from(`${h}.${p}`), c.publicKey, Buffer.from(s ?? '', 'base64url'));
      if (!ok) {
        res.writeHead(401, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: 'invalid_client', error_description: 'bad signature' }));
        return;
      }
      const body2 =
        answer.body === undefined
          ? { access_token: `tok-${++issued}-abcdef`, token_type: 'bearer', expires_in: 3600 }
          : answer.body;
      res.writeHead(answer.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body2));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

function source(now: () => number) {
  const creds = parseCredentials(c.clientId, c.clientSecret);
  const endpoint = resolveEndpoint(creds, { BATON_C1_API_HOST: `http://127.0.0.1:${port}` });
  return new C1TokenSource({
    creds,
    endpoint,
    connection: { secureContext: createTrustContext({ env: {} }), alpn: [] },
    userAgent: 'test',
    now,
  });
}

describe('token exchange', () => {
  it('posts the four form fields to /auth/v1/token and caches the token until shortly before expiry', async () => {
    answer = { status: 200, body: undefined };
    let now = 1_000_000;
    const ts = source(() => now);
    const before = requests.length;
    const first = await ts.header();
    expect(first).toMatch(/^Bearer tok-\d+-abcdef$/);
    const req = requests.at(-1)!;
    expect(req.path).toBe('/auth/v1/token');
    expect(req.contentType).toBe('application/x-www-form-urlencoded');
    expect(
      Object.keys(req)
        .filter((k) => !['path', 'contentType'].includes(k))
        .sort(),
    ).toEqual(['client_assertion', 'client_assertion_type', 'client_id', 'grant_type']);
    expect(req.client_id).toBe(c.clientId);
    expect(req.grant_type).toBe('client_credentials');
    // The audience is the client id's host even though the request went to 127.0.0.1.
    const claims = JSON.parse(Buffer.from(req.client_assertion!.split('.')[1]!, 'base64url').toString());
    expect(claims.aud).toEqual(['acme.conductor.one']);

    now += 3_000_000; // 50 min: still valid
    expect(await ts.header()).toBe(first);
    expect(requests.length).toBe(before + 1);
    now += 595_000; // 5 s before expiry: renewed
    const second = await ts.header();
    expect(second).not.toBe(first);
    expect(requests.length).toBe(before + 2);
  });

  it('shares one request among concurrent callers and fetches anew after invalidate', async () => {
    answer = { status: 200, body: undefined };
    const ts = source(Date.now);
    const before = requests.length;
    const all = await Promise.all([ts.header(), ts.header(), ts.header()]);
    expect(new Set(all).size).toBe(1);
    expect(requests.length).toBe(before + 1);
    ts.invalidate('Bearer some-older-token');
    expect(await ts.header()).toBe(all[0]);
    ts.invalidate(all[0]);
    expect(await ts.header()).not.toBe(all[0]);
    expect(requests.length).toBe(before + 2);
  });

  it('a short-lived token is reused for half its life', async () => {
    answer = {
      status: 200,
      body: { access_token: 'short-lived-token', token_type: 'Bearer', expires_in: 4 },
    };
    let now = 5_000_000;
    const ts = source(() => now);
    const before = requests.length;
    await ts.header();
    now += 1500;
    await ts.header();
    expect(requests.length).toBe(before + 1);
    now += 1000;
    await ts.header();
    expect(requests.length).toBe(before + 2);
  });

  it('refused credentials are a C1AuthError (exit 3) quoting the OAuth error, never the secret', async () => {
    answer = { status: 401, body: { error: 'invalid_client', error_description: 'unknown key' } };
    const err = await source(Date.now)
      .header()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(C1AuthError);
    expect((err as C1AuthError).exitCode).toBe(3);
    expect((err as Error).message).toMatch(/HTTP 401 \(invalid_client: unknown key\).*refused/);
    expect((err as Error).message).not.toContain(c.encoded);
  });

  it.each([
    [401, { error: 'invalid_client' }, true],
    [401, { error: 'unauthorized' }, true],
    [400, { error: 'invalid_client' }, true],
    [400, { error: 'invalid_request' }, false],
    [403, { error: 'forbidden' }, false],
  ])(
    'HTTP %i %j: the credentials are refused for good: %s (a running service then stops with exit 3)',
    async (status, body, final) => {
      answer = { status, body };
      const err = await source(Date.now)
        .header()
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(C1AuthError);
      expect((err as C1AuthError).credentialsRefused).toBe(final);
    },
  );

  it('a 503 or a closed port is C1UnavailableError (the loop backs off and retries)', async () => {
    answer = { status: 503, body: { error: 'down' } };
    await expect(source(Date.now).header()).rejects.toBeInstanceOf(C1UnavailableError);
    const creds = parseCredentials(c.clientId, c.clientSecret);
    const ts = new C1TokenSource({
      creds,
      endpoint: resolveEndpoint(creds, { BATON_C1_API_HOST: 'http://127.0.0.1:1' }),
      connection: { secureContext: createTrustContext({ env: {} }), alpn: [] },
      userAgent: 'test',
    });
    await expect(ts.header()).rejects.toThrow(/unreachable/);
  });

  it('an answer without a token is refused', async () => {
    answer = { status: 200, body: { access_token: '', expires_in: 10 } };
    await expect(source(Date.now).header()).rejects.toThrow(/no access token/);
  });
});

describe('endpoint', () => {
  const creds = { host: 'acme.conductor.one' };
  it('defaults to the client id host on 443, overridable by BATON_C1_API_HOST', () => {
    expect(resolveEndpoint(creds, {}).tokenUrl).toBe('https://acme.conductor.one:443/auth/v1/token');
    expect(resolveEndpoint(creds, { BATON_C1_API_HOST: 'c1.internal:8443' }).origin).toBe(
      'https://c1.internal:8443',
    );
    expect(resolveEndpoint(creds, { BATON_C1_API_HOST: 'http://localhost:9000' }).scheme).toBe('http');
  });

  it('refuses plain http to a non-loopback host, and paths', () => {
    expect(() => resolveEndpoint(creds, { BATON_C1_API_HOST: 'http://c1.internal:80' })).toThrow(
      C1EndpointError,
    );
    expect(() => resolveEndpoint(creds, { BATON_C1_API_HOST: 'c1.internal/x' })).toThrow(
      /host\[:port\] only/,
    );
  });
});
