import { afterEach, describe, expect, it } from 'vitest';
import type { Simulator, SimulatorOptions } from '../../src/simulator/index.js';
import { LeakyBucket } from '../../src/simulator/rate-limiter.js';
import { client } from './helpers.js';
import { testSimulator, simulatorToken } from '../helpers/simulator.js';

let s: Simulator | undefined;
afterEach(async () => {
  await s?.close();
  s = undefined;
});

async function setup(opts: SimulatorOptions = {}) {
  s = await testSimulator({ tenant: { users: 20, seed: 2 }, ...opts });
  return { s, api: await client(s) };
}

describe('leaky bucket', () => {
  it('admits the burst, refuses the next, refills fractionally, and never refuses a client at exactly the rate', () => {
    let now = 0;
    const b = new LeakyBucket(25, 20, () => now);
    for (let i = 0; i < 20; i++) expect(b.take()).toBe(0);
    expect(b.take()).toBeGreaterThan(0);
    now += 40; // one request's worth at 25/s
    expect(b.take()).toBe(0);
    expect(b.take()).toBeGreaterThan(0);
    for (let i = 0; i < 1000; i++) {
      now += 40;
      expect(b.take(), `request ${i}`).toBe(0);
    }
    const wait = b.take();
    expect(wait).toBeCloseTo(0.04, 5);
  });
});

describe('rate limit over HTTP', () => {
  it('answers 429 with Retry-After when 60 requests arrive at once', async () => {
    const { s, api } = await setup({ rateLimit: { perSecond: 25, burst: 20 } });
    // The token request above used one unit of the bucket. On a busy machine the 60 requests are
    // spread over some time, during which the bucket drains; the bound accounts for that.
    const t0 = performance.now();
    const replies = await Promise.all(Array.from({ length: 60 }, () => api.get('/api/users?limit=1')));
    const elapsedS = (performance.now() - t0) / 1000;
    const ok = replies.filter((r) => r.status === 200).length;
    const limited = replies.filter((r) => r.status === 429);
    expect(ok).toBeGreaterThanOrEqual(19);
    expect(ok).toBeLessThanOrEqual(Math.floor(19 + elapsedS * 25) + 1);
    expect(limited.length).toBe(60 - ok);
    expect(limited.length).toBeGreaterThan(0);
    for (const r of limited) expect(Number(r.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(s.counters().byRouteStatus['GET /api/users']!['429']).toBe(limited.length);
  });

  it('lets a client paced at exactly 25 req/s through without a single 429', async () => {
    const { api } = await setup({ rateLimit: { perSecond: 25, burst: 20 } });
    // Fill most of the bucket first (token + 15), leaving a few units of slack for timer jitter
    // only, so a limiter stricter than 25/s would fail the paced phase.
    const burst = await Promise.all(Array.from({ length: 15 }, () => api.get('/api/users?limit=1')));
    expect(burst.every((r) => r.status === 200)).toBe(true);
    const statuses: number[] = [];
    const start = performance.now();
    for (let i = 0; i < 40; i++) {
      const due = start + i * 40;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      statuses.push((await api.get('/api/users?limit=1')).status);
    }
    expect(statuses.every((x) => x === 200)).toBe(true);
  });

  it('can omit Retry-After, and can be switched off', async () => {
    const { api } = await setup({ rateLimit: { perSecond: 5, burst: 2 }, retryAfter: false });
    const replies = await Promise.all(Array.from({ length: 10 }, () => api.get('/api/roles')));
    const limited = replies.filter((r) => r.status === 429);
    expect(limited.length).toBeGreaterThan(0);
    for (const r of limited) expect(r.headers.get('retry-after')).toBeNull();
    await s!.close();
    const { api: free } = await setup({ rateLimit: false });
    const all = await Promise.all(Array.from({ length: 60 }, () => free.get('/api/roles')));
    expect(all.every((r) => r.status === 200)).toBe(true);
  });
});

describe('latency', () => {
  it('adds latencyMs to every API response but not to admin routes', async () => {
    const { s, api } = await setup({ latencyMs: 150 });
    const t0 = performance.now();
    await api.get('/api/users?limit=1');
    expect(performance.now() - t0).toBeGreaterThanOrEqual(145);
    const t1 = performance.now();
    await fetch(`${s.url}/__sim/counters`);
    expect(performance.now() - t1).toBeLessThan(140);
  });
});

describe('faults', () => {
  it('status on the Nth matching request only', async () => {
    const { s, api } = await setup();
    s.faults.add({
      match: { method: 'GET', path: '/api/users' },
      onRequests: [2],
      kind: 'status',
      status: 500,
    });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await api.get('/api/users?limit=1')).status);
    expect(statuses).toEqual([200, 500, 200]);
    expect((await api.get('/api/roles')).status).toBe(200);
  });

  it('429 storm: every request after the first N, at most `times`, with Retry-After', async () => {
    const { api, s } = await setup();
    s.faults.add({ afterRequests: 1, times: 3, kind: 'status', status: 429, retryAfterSeconds: 2 });
    const replies = [];
    for (let i = 0; i < 6; i++) replies.push(await api.get('/api/roles'));
    expect(replies.map((r) => r.status)).toEqual([200, 429, 429, 429, 200, 200]);
    expect(replies[1]!.headers.get('retry-after')).toBe('2');
  });

  it('502/503 by probability (1 = always, 0 = never), and a remover', async () => {
    const { api, s } = await setup();
    const remove = s.faults.add({ probability: 1, kind: 'status', status: 503 });
    s.faults.add({ probability: 0, kind: 'status', status: 502 });
    expect((await api.get('/api/roles')).status).toBe(503);
    remove();
    expect((await api.get('/api/roles')).status).toBe(200);
    s.faults.clear();
    s.faults.add({ match: { path: /^\/api\/roles\/\d+$/ }, kind: 'status', status: 502 });
    expect((await api.get('/api/roles/1')).status).toBe(502);
    expect((await api.get('/api/roles')).status).toBe(200);
  });

  it('reset destroys the connection without a response', async () => {
    const { api, s } = await setup();
    s.faults.add({ times: 1, kind: 'reset' });
    await expect(api.get('/api/roles')).rejects.toThrow();
    expect((await api.get('/api/roles')).status).toBe(200);
    expect(s.counters().byStatus['reset']).toBe(1);
  });

  it('delay slows the response, then answers normally', async () => {
    const { api, s } = await setup();
    s.faults.add({ times: 1, kind: 'delay', ms: 200 });
    const t0 = performance.now();
    const res = await api.get('/api/roles');
    expect(performance.now() - t0).toBeGreaterThanOrEqual(195);
    expect(res.status).toBe(200);
    expect(res.json.length).toBeGreaterThan(0);
  });

  it('malformed-json is a 200 whose body does not parse', async () => {
    const { api, s } = await setup();
    s.faults.add({ times: 1, kind: 'malformed-json' });
    const res = await api.get('/api/users?limit=3');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/json');
    expect(() => JSON.parse(res.text)).toThrow();
  });

  it('html-200 is a maintenance page with status 200', async () => {
    const { api, s } = await setup();
    s.faults.add({ times: 1, kind: 'html-200' });
    const res = await api.get('/api/users');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(res.text).toContain('<html>');
  });

  it('xml answers XML although JSON was asked', async () => {
    const { api, s } = await setup();
    s.faults.add({ times: 1, kind: 'xml' });
    const res = await api.get('/api/users/1');
    expect(res.headers.get('content-type')).toContain('xml');
    expect(res.text).toContain('<user>');
  });

  it('revoke-token answers 401 and the old token stays dead', async () => {
    const { api, s } = await setup();
    s.faults.add({ onRequests: [2], kind: 'revoke-token' });
    expect((await api.get('/api/roles')).status).toBe(200);
    expect((await api.get('/api/roles')).status).toBe(401);
    expect((await api.get('/api/roles')).status).toBe(401);
    const fresh = await simulatorToken(s);
    const res = await fetch(`${s.url}/api/roles`, {
      headers: { Authorization: `Bearer ${fresh}`, Accept: 'application/json' },
    });
    expect(res.status).toBe(200);
  });

  it('transform rewrites the JSON body in-process', async () => {
    const { api, s } = await setup();
    s.faults.add({
      match: { path: '/api/users' },
      kind: 'transform',
      transform: (body, req) =>
        Array.isArray(body) && req.query.get('limit') === '2' ? [...body, body[0]] : body,
    });
    const res = await api.get('/api/users?limit=2');
    expect(res.json.map((u: { id: number }) => u.id)).toEqual([1, 2, 1]);
    const single = await api.get('/api/users?limit=1');
    expect(single.json).toHaveLength(1);
  });
});

describe('counters', () => {
  it('count by route, status and both; admin routes are not counted; reset clears', async () => {
    const { api, s } = await setup();
    await api.get('/api/users?limit=1');
    await api.get('/api/users/1');
    await api.get('/api/users/99999');
    await fetch(`${s.url}/__sim/ground-truth`);
    const c = s.counters();
    expect(c.total).toBe(4);
    expect(c.byRoute).toEqual({ 'POST /oauth2/token': 1, 'GET /api/users': 1, 'GET /api/users/:id': 2 });
    expect(c.byStatus).toEqual({ '200': 3, '404': 1 });
    expect(c.byRouteStatus['GET /api/users/:id']).toEqual({ '200': 1, '404': 1 });
    expect(await fetch(`${s.url}/__sim/counters`).then((r) => r.json())).toEqual(c);
    await fetch(`${s.url}/__sim/counters/reset`, { method: 'POST' });
    expect(s.counters().total).toBe(0);
    await api.get('/api/roles');
    s.resetCounters();
    expect(s.counters()).toEqual({ total: 0, byRoute: {}, byStatus: {}, byRouteStatus: {} });
  });
});
