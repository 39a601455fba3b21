import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  CoupaApiError,
  CoupaClient,
  CoupaRedirectError,
  CoupaUnavailableError,
  RetryBudgetExceededError,
  type CoupaClientOptions,
} from '../../src/coupa/index.js';
import { backoffDelay, parseRetryAfter } from '../../src/coupa/retry.js';
import { ExitCode } from '../../src/errors.js';
import { json, startFake, type FakeServer, caught, unexpected, fakeClient } from './helpers/fake-coupa.js';

const Any = z.unknown();
const servers: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function fakeWith(opts: Parameters<typeof startFake>[0]): Promise<FakeServer> {
  const f = await startFake(opts);
  servers.push(f);
  return f;
}

function client(url: string, extra: Partial<CoupaClientOptions> = {}): CoupaClient {
  return fakeClient(url, { ...extra, retry: { baseDelayMs: 5, maxDelayMs: 2000, ...extra.retry } });
}

/** Answers the API with `script[i]` for the i-th API request, then 200 `{}`. */
function scripted(script: Array<(res: import('node:http').ServerResponse) => void>) {
  let i = 0;
  return (_req: unknown, res: import('node:http').ServerResponse) => {
    const step = script[i++];
    if (step) step(res);
    else json(res, 200, { ok: true });
  };
}

describe('retry policy helpers', () => {
  it('parses Retry-After as seconds or an HTTP date', () => {
    expect(parseRetryAfter('3')).toBe(3000);
    expect(parseRetryAfter('0.5')).toBe(500);
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:04 GMT', now)).toBe(4000);
    expect(parseRetryAfter('Thu, 01 Jan 2025 00:00:04 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(null)).toBeUndefined();
  });

  it('full jitter stays within [0, min(max, base·2^n)]', () => {
    const opts = { baseDelayMs: 100, maxDelayMs: 1000 };
    expect(backoffDelay(0, opts, () => 0.999)).toBe(99);
    expect(backoffDelay(3, opts, () => 0.5)).toBe(400);
    expect(backoffDelay(10, opts, () => 0.999)).toBe(999);
    expect(backoffDelay(2, opts, () => 0)).toBe(0);
  });
});

describe('retries', () => {
  it('429 with Retry-After: waits at least that long, then succeeds', async () => {
    const fake = await fakeWith({
      api: scripted([(res) => json(res, 429, { errors: ['slow down'] }, { 'retry-after': '1' })]),
    });
    const c = client(fake.url);
    await c.get('/api/roles', { schema: Any }); // token + 429 + retry
    const [first, second] = fake.apiRequests();
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(990);
    expect(c.stats()).toMatchObject({ retries: 1, throttled: 1, byStatus: { '429': 1, '200': 2 } });
  });

  it('429 with an HTTP-date Retry-After is honoured too', async () => {
    const fake = await fakeWith({
      api: scripted([
        (res) => json(res, 429, {}, { 'retry-after': new Date(Date.now() + 2000).toUTCString() }),
      ]),
    });
    const c = client(fake.url);
    await c.get('/api/roles', { schema: Any });
    const [first, second] = fake.apiRequests();
    // HTTP dates have 1 s resolution: at least ~1 s, and not the 5 ms backoff.
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(900);
  });

  it('a Retry-After longer than maxDelayMs ends with CoupaUnavailableError at once', async () => {
    const fake = await fakeWith({ api: (_r, res) => json(res, 429, {}, { 'retry-after': '3600' }) });
    const err = await client(fake.url).get('/api/users', { schema: Any }).then(unexpected, caught);
    expect(err).toBeInstanceOf(CoupaUnavailableError);
    expect(err.message).toMatch(/wait 3600 s/);
    expect(fake.apiRequests()).toHaveLength(1);
  });

  it.each([500, 502, 503, 504])('retries %i', async (status) => {
    const fake = await fakeWith({
      api: scripted([(res) => json(res, status, {}), (res) => json(res, status, {})]),
    });
    const c = client(fake.url);
    await expect(c.get('/api/roles', { schema: z.object({ ok: z.boolean() }) })).resolves.toEqual({
      ok: true,
    });
    expect(fake.apiRequests()).toHaveLength(3);
    expect(c.stats().retries).toBe(2);
  });

  it('retries a connection reset', async () => {
    const fake = await fakeWith({
      api: scripted([(res) => res.socket?.destroy(), (res) => res.socket?.destroy()]),
    });
    const c = client(fake.url);
    await expect(c.get('/api/roles', { schema: z.object({ ok: z.boolean() }) })).resolves.toEqual({
      ok: true,
    });
    expect(fake.apiRequests()).toHaveLength(3);
    expect(c.stats().retries).toBe(2);
  });

  it('retries after a per-attempt timeout, also when the body stalls', async () => {
    const fake = await fakeWith({
      api: scripted([
        () => undefined, // never answers
        (res) => {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.write('[{"id":'); // headers, then the body stalls
        },
      ]),
    });
    const c = client(fake.url, { timeoutMs: 300 });
    const started = performance.now();
    await expect(c.get('/api/roles', { schema: z.object({ ok: z.boolean() }) })).resolves.toEqual({
      ok: true,
    });
    expect(performance.now() - started).toBeGreaterThanOrEqual(590);
    // Both stalls timed out (a very loaded machine could time out a healthy answer too).
    const timeouts = c.stats().byStatus.TIMEOUT ?? 0;
    expect(timeouts).toBeGreaterThanOrEqual(2);
    expect(fake.apiRequests()).toHaveLength(timeouts + 1);
  });

  it('remembers when a write whose answer was lost was sent (a timeout or a 504), but not for reads', async () => {
    const fake = await fakeWith({
      api: scripted([
        () => undefined, // the GET never answers; its retry does
        (res) => json(res, 200, {}),
        () => undefined, // the first PUT never answers
        (res) => json(res, 504, {}), // the second one gets a gateway timeout; the third succeeds
      ]),
    });
    const c = client(fake.url, { timeoutMs: 200 });
    await c.get('/api/roles', { schema: Any });
    expect(c.stats().unansweredWriteSentAt).toBeNull();
    const before = performance.now();
    await c.put('/api/users/1', { active: true }, { schema: Any });
    const { unansweredWriteSentAt: sentAt } = c.stats();
    // The 504 attempt, the later of the two lost ones, sent after the first one timed out.
    expect(sentAt).toBeGreaterThanOrEqual(before + 200);
    expect(sentAt).toBeLessThan(performance.now());
  });

  it('gives up after the per-request limit with CoupaUnavailableError naming the call and last status', async () => {
    const fake = await fakeWith({ api: (_r, res) => json(res, 503, {}) });
    const c = client(fake.url, { retry: { limit: 3 } });
    const err = await c
      .get('/api/users', { query: { login: 'private-value' }, schema: Any })
      .then(unexpected, caught);
    expect(err).toBeInstanceOf(CoupaUnavailableError);
    expect(err).not.toBeInstanceOf(RetryBudgetExceededError);
    expect(err.exitCode).toBe(ExitCode.unavailable);
    expect(err.lastStatus).toBe(503);
    expect(err.message).toBe(
      `Gave up on GET /api/users at ${fake.url} after 4 attempts (last failure: HTTP 503).`,
    );
    expect(err.message).not.toContain('private-value');
    expect(err.hint).toMatch(/try again later/);
    expect(fake.apiRequests()).toHaveLength(4);
  });

  it('the client-wide budget ends the run with RetryBudgetExceededError', async () => {
    const fake = await fakeWith({ api: (_r, res) => json(res, 500, {}) });
    const c = client(fake.url, { retry: { limit: 3, budget: 5 } });
    const first = await c.get('/api/roles', { schema: Any }).then(unexpected, caught);
    expect(first).toBeInstanceOf(CoupaUnavailableError); // 3 retries used
    const second = await c.get('/api/roles', { schema: Any }).then(unexpected, caught);
    expect(second).toBeInstanceOf(RetryBudgetExceededError);
    expect(second.exitCode).toBe(ExitCode.unavailable);
    expect(second.message).toMatch(/budget of 5 retries is spent \(last failure: HTTP 500\)/);
    expect(c.stats().retries).toBe(5);
    expect(fake.apiRequests()).toHaveLength(4 + 3);
  });

  it.each([400, 404, 405, 409, 422])(
    "does not retry %i: CoupaApiError with Coupa's message",
    async (status) => {
      const fake = await fakeWith({
        api: (_r, res) => json(res, status, { errors: { user: ['Login has already been taken'] } }),
      });
      const c = client(fake.url);
      const err = await c.post('/api/users', { login: 'x' }, { schema: Any }).then(unexpected, caught);
      expect(err).toBeInstanceOf(CoupaApiError);
      expect(err.status).toBe(status);
      expect(err.message).toBe(
        `Coupa answered ${status} to POST /api/users: user: Login has already been taken.`,
      );
      expect(fake.apiRequests()).toHaveLength(1);
    },
  );

  it('a non-JSON error body is quoted briefly', async () => {
    const fake = await fakeWith({
      api: (_r, res) => {
        res.writeHead(404, { 'content-type': 'text/html' });
        res.end(`<html><body>Not   found\n${'x'.repeat(1000)}</body></html>`);
      },
    });
    const err = await client(fake.url).get('/api/nope', { schema: Any }).then(unexpected, caught);
    expect(err).toBeInstanceOf(CoupaApiError);
    expect(err.message).toMatch(/^Coupa answered 404 to GET \/api\/nope: <html><body>Not found x+….$/);
    expect(err.message.length).toBeLessThan(200);
  });

  it('POST is not repeated after a 500 (it may have been applied), but is after a 429', async () => {
    const fake500 = await fakeWith({ api: scripted([(res) => json(res, 500, {})]) });
    const err = await client(fake500.url).post('/api/users', {}, { schema: Any }).then(unexpected, caught);
    expect(err).toBeInstanceOf(CoupaApiError);
    expect(fake500.apiRequests()).toHaveLength(1);
    const fake429 = await fakeWith({ api: scripted([(res) => json(res, 429, {})]) });
    await client(fake429.url).post('/api/users', {}, { schema: Any });
    expect(fake429.apiRequests()).toHaveLength(2);
  });

  it('an unreachable host ends with CoupaUnavailableError after the retries', async () => {
    // Bind, learn the port, close: nothing listens there any more.
    const s: Server = createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const port = (s.address() as AddressInfo).port;
    await new Promise<void>((r) => s.close(() => r()));
    const c = client(`http://127.0.0.1:${port}`, { retry: { limit: 2 } });
    const err = await c.get('/api/users', { schema: Any }).then(unexpected, caught);
    expect(err).toBeInstanceOf(CoupaUnavailableError);
    expect(err.message).toMatch(
      /POST \/oauth2\/token at http:\/\/127\.0\.0\.1:\d+ after 3 attempts \(last failure: ECONNREFUSED/,
    );
    expect(c.stats().byStatus.ECONNREFUSED).toBe(3);
  });
});

describe('redirects', () => {
  it('a redirect to another host is not followed, and the token never goes there', async () => {
    const other = await fakeWith({ api: (_r, res) => json(res, 200, { stolen: true }) });
    const fake = await fakeWith({
      api: (_r, res) => {
        res.writeHead(302, { location: `${other.url.replace('127.0.0.1', 'localhost')}/api/users?x=1` });
        res.end();
      },
    });
    const err = await client(fake.url).get('/api/users', { schema: Any }).then(unexpected, caught);
    expect(err).toBeInstanceOf(CoupaRedirectError);
    expect(err.message).toMatch(
      /redirected \(HTTP 302\) to http:\/\/localhost:\d+\/api\/users; redirects are never followed, so credentials are not sent to another host/,
    );
    expect(other.requests).toHaveLength(0);
  });

  it('a redirect of the token request is not followed either (the secret stays home)', async () => {
    const other = await fakeWith({});
    const fake = await fakeWith({
      token: (_r, res) => {
        res.writeHead(307, { location: `${other.url}/oauth2/token` });
        res.end();
      },
    });
    const err = await client(fake.url).get('/api/users', { schema: Any }).then(unexpected, caught);
    expect(err).toBeInstanceOf(CoupaRedirectError);
    expect(other.requests).toHaveLength(0);
  });
});

describe('abort signal', () => {
  it('aborting rejects in-flight calls and retry waits with the signal reason', async () => {
    const fake = await fakeWith({ api: (_r, res) => json(res, 429, {}, { 'retry-after': '20' }) });
    const ac = new AbortController();
    const c = client(fake.url, { signal: ac.signal, retry: { maxDelayMs: 60_000 } });
    const pending = c.get('/api/users', { schema: Any }).then(unexpected, caught);
    await new Promise((r) => setTimeout(r, 200));
    const reason = new Error('stopped by test');
    ac.abort(reason);
    const started = performance.now();
    expect(await pending).toBe(reason);
    // Not after the 20 s Retry-After: the abort ends the wait itself.
    expect(performance.now() - started).toBeLessThan(10_000);
  });
});
