import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { FaultRule, Simulator } from '../../src/simulator/index.js';
import { CoupaAuthError, CoupaUnavailableError, RetryBudgetExceededError } from '../../src/coupa/errors.js';
import { CoupaConnectorError } from '../../src/errors.js';
import { syncToC1z } from '../../src/connector/sync.js';
import { simulatorFlags, cli } from '../helpers/cli.js';
import { decode, everyNth, onCopyOfPrevious, syncOnce, type Decoded } from './helpers.js';
import { testSimulator } from '../helpers/simulator.js';
import { tempDir } from '../helpers/temp-dir.js';
import { testClient } from '../helpers/client.js';

/**
 * The fault matrix of issue 6: each transient fault alone and all together must give a c1z equal to
 * a clean run's; faults beyond the retry budget must give a typed error and leave the previous file
 * byte for byte as it was. Schedules are "every Nth request" so the rates are exact and replayable.
 */

const TENANT = { seed: 61, users: 1000 };

const FAULTS: Record<string, FaultRule[]> = {
  // 10% 429 with Coupa's Retry-After: 1 (the simulator's default), on every route incl. the token.
  '10% 429': [{ onRequests: everyNth(10, 4), kind: 'status', status: 429 }],
  // 5% 5xx, cycling 500 / 502 / 503.
  '5% 5xx': [
    { onRequests: everyNth(60, 7), kind: 'status', status: 500 },
    { onRequests: everyNth(60, 27), kind: 'status', status: 502 },
    { onRequests: everyNth(60, 47), kind: 'status', status: 503 },
  ],
  // 2% connection resets (socket destroyed before any answer).
  '2% resets': [{ onRequests: everyNth(50, 11), kind: 'reset' }],
  // Responses slower than the client's 600 ms timeout.
  'slow responses past the timeout': [{ onRequests: everyNth(12, 1), kind: 'delay', ms: 2_000 }],
  // Every token revoked in the middle of the user walk (twice): 401, renew, carry on.
  'token revoked mid-sync': [{ match: { path: '/api/users' }, onRequests: [6, 15], kind: 'revoke-token' }],
};

/** Which simulator counter proves that a rule fired. */
function firedCount(sim: Simulator, name: string): number {
  const c = sim.counters();
  switch (name) {
    case '10% 429':
      return c.byStatus['429'] ?? 0;
    case '5% 5xx':
      return (c.byStatus['500'] ?? 0) + (c.byStatus['502'] ?? 0) + (c.byStatus['503'] ?? 0);
    case '2% resets':
      return c.byStatus['reset'] ?? 0;
    case 'slow responses past the timeout':
      // The client gives up before the answer: the server sees the socket close first.
      return c.byStatus['reset'] ?? 0;
    case 'token revoked mid-sync':
      return c.byStatus['401'] ?? 0;
    default:
      throw new Error(name);
  }
}

let sim: Simulator;
let clean: Decoded;
const tmp = tempDir();

beforeAll(async () => {
  sim = await testSimulator({ tenant: TENANT });
  const out = join(tmp.dir, 'clean.c1z');
  await syncOnce(sim, out);
  clean = await decode(out);
});
afterAll(async () => {
  await sim.close();
  tmp.cleanup();
});
beforeEach(() => {
  sim.faults.clear();
  sim.resetCounters();
});

function expectSameAsClean(d: Decoded): void {
  expect(d.resourceTypes).toEqual(clean.resourceTypes);
  expect(d.resources.size).toBe(clean.resources.size);
  expect(d.resources).toEqual(clean.resources);
  expect(d.entitlements).toEqual(clean.entitlements);
  expect(d.grants.size).toBe(clean.grants.size);
  expect(d.grants).toEqual(clean.grants);
  expect(d.rows).toEqual(clean.rows);
}

describe('fault matrix: transient faults give the same c1z as a clean run', () => {
  it('the clean run is a real tenant (guards the comparisons below against an empty baseline)', () => {
    expect([...clean.resources.keys()].filter((k) => k.startsWith('user:'))).toHaveLength(TENANT.users);
    expect(clean.grants.size).toBeGreaterThan(TENANT.users);
  });

  for (const [name, rules] of Object.entries(FAULTS)) {
    it(`${name}`, async () => {
      for (const r of rules) sim.faults.add(r);
      const out = join(tmp.dir, `alone-${name.replace(/\W+/g, '-')}.c1z`);
      const summary = await syncOnce(sim, out, { timeoutMs: 600 });
      expect(firedCount(sim, name)).toBeGreaterThan(0);
      if (name === 'token revoked mid-sync') {
        // A refused token is renewed, not retried: one first token plus one per revocation.
        expect(sim.counters().byRoute['POST /oauth2/token']).toBe(3);
      } else {
        expect(summary.retries).toBeGreaterThan(0);
      }
      expectSameAsClean(await decode(out));
    });
  }

  it('all of them together', async () => {
    for (const rules of Object.values(FAULTS)) for (const r of rules) sim.faults.add(r);
    const out = join(tmp.dir, 'all.c1z');
    const summary = await syncOnce(sim, out, { timeoutMs: 600 });
    for (const name of Object.keys(FAULTS)) expect(firedCount(sim, name), name).toBeGreaterThan(0);
    expect(summary.retries).toBeGreaterThanOrEqual(5);
    expectSameAsClean(await decode(out));
  });

  it('all of them together through the CLI: exit 0 and the same c1z', async () => {
    for (const rules of Object.values(FAULTS)) for (const r of rules) sim.faults.add(r);
    const out = join(tmp.dir, 'all-cli.c1z');
    const run = await cli([
      ...simulatorFlags(sim),
      '--request-timeout',
      '600ms',
      '-f',
      out,
      '--log-format',
      'json',
    ]);
    expect(run.code, run.stderr).toBe(0);
    for (const name of Object.keys(FAULTS)) expect(firedCount(sim, name), name).toBeGreaterThan(0);
    expectSameAsClean(await decode(out));
  });

  it('all of them together at random (probability rules), twice', async () => {
    for (let round = 0; round < 2; round++) {
      sim.faults.clear();
      sim.faults.add({ probability: 0.1, kind: 'status', status: 429, retryAfterSeconds: 0 });
      sim.faults.add({ probability: 0.05, kind: 'status', status: 503 });
      sim.faults.add({ probability: 0.02, kind: 'reset' });
      sim.faults.add({ match: { path: '/api' }, probability: 0.05, kind: 'delay', ms: 2_000 });
      sim.faults.add({ match: { path: '/api/users' }, onRequests: [5], kind: 'revoke-token' });
      const out = join(tmp.dir, `random-${round}.c1z`);
      await syncOnce(sim, out, { timeoutMs: 600 });
      expectSameAsClean(await decode(out));
    }
  });
});

describe("rate limit: the real leaky bucket (25/s, burst 20) against the client's own limiter", () => {
  it('no 429 at all and the same c1z as a clean run', async () => {
    const limited = await testSimulator({ tenant: TENANT, rateLimit: { perSecond: 25, burst: 20 } });
    try {
      const out = join(tmp.dir, 'rate-limited.c1z');
      const summary = await syncToC1z({
        client: testClient(limited, { rateLimit: undefined }), // the client's own limiter
        outPath: out,
      });
      expect(limited.counters().byStatus['429'] ?? 0).toBe(0);
      expect(summary.throttled).toBe(0);
      expect(summary.requests).toBeGreaterThan(20); // more requests than the burst: the bucket mattered
      expectSameAsClean(await decode(out));
    } finally {
      await limited.close();
    }
  });
});

describe('fault matrix: faults beyond the retry budget stop with a typed error and keep the previous file', () => {
  let previous: string;
  beforeAll(async () => {
    previous = join(tmp.dir, 'previous.c1z');
    await syncOnce(sim, previous);
  });

  /** Runs a sync that must fail onto a copy of the previous file and checks the file and the directory. */
  async function failingSync(
    name: string,
    opts: Parameters<typeof syncOnce>[2],
  ): Promise<CoupaConnectorError> {
    const err = await onCopyOfPrevious(
      previous,
      (out) =>
        syncOnce(sim, out, opts).then(
          () => new Error(`${name}: the sync succeeded`),
          (e: unknown) => e,
        ),
      `${name}: `,
    );
    expect(err, name).toBeInstanceOf(CoupaConnectorError);
    return err as CoupaConnectorError;
  }

  it('100% 503 on /api/users: CoupaUnavailableError after the per-request limit, naming the endpoint', async () => {
    sim.faults.add({ match: { path: '/api/users' }, kind: 'status', status: 503 });
    const err = await failingSync('503 storm', { retry: { limit: 3 } });
    expect(err).toBeInstanceOf(CoupaUnavailableError);
    expect(err.message).toMatch(/\/api\/users/);
    expect(err.message).toMatch(/4 attempts/);
    expect(err.message).toMatch(/HTTP 503/);
    expect(err.exitCode).toBe(4);
  });

  it('10% 429 against a spent client-wide budget: RetryBudgetExceededError', async () => {
    sim.faults.add({ onRequests: everyNth(10, 2), kind: 'status', status: 429, retryAfterSeconds: 0 });
    const err = await failingSync('budget', { retry: { budget: 1 } });
    expect(err).toBeInstanceOf(RetryBudgetExceededError);
    expect(err.message).toMatch(/budget of 1 retries is spent/);
  });

  it('every response slower than the timeout: CoupaUnavailableError that says it timed out', async () => {
    sim.faults.add({ match: { path: '/api/roles' }, kind: 'delay', ms: 400 });
    const err = await failingSync('timeouts', { timeoutMs: 100, retry: { limit: 2 } });
    expect(err).toBeInstanceOf(CoupaUnavailableError);
    expect(err.message).toMatch(/\/api\/roles/);
    expect(err.message.toLowerCase()).toMatch(/time/);
  });

  it('a 429 whose Retry-After is longer than we wait at most: CoupaUnavailableError at once', async () => {
    sim.faults.add({ match: { path: '/api/users' }, kind: 'status', status: 429, retryAfterSeconds: 3600 });
    const started = Date.now();
    const err = await failingSync('long Retry-After', {});
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(err).toBeInstanceOf(CoupaUnavailableError);
    expect(err.message).toMatch(/3600 s/);
    expect(err.message).toMatch(/\/api\/users/);
  });

  it('every connection reset: CoupaUnavailableError', async () => {
    sim.faults.add({ match: { path: '/api/user_groups' }, kind: 'reset' });
    const err = await failingSync('resets', { retry: { limit: 2 } });
    expect(err).toBeInstanceOf(CoupaUnavailableError);
    expect(err.message).toMatch(/\/api\/user_groups/);
  });

  it('the token revoked on every call: CoupaAuthError (exit 3), not an endless renewal loop', async () => {
    sim.faults.add({ match: { path: '/api/users' }, kind: 'revoke-token' });
    const err = await failingSync('revoked', {});
    expect(err).toBeInstanceOf(CoupaAuthError);
    expect(err.exitCode).toBe(3);
    // Renewal is bounded: a handful of token requests, not one per retry of a 200-retry budget.
    expect(sim.counters().byRoute['POST /oauth2/token'] ?? 0).toBeLessThanOrEqual(4);
  });

  it('through the CLI: exit code 4, a message naming the endpoint, previous file byte-identical', async () => {
    sim.faults.add({ match: { path: '/api/users' }, kind: 'status', status: 502 });
    const run = await onCopyOfPrevious(previous, (out) =>
      cli([...simulatorFlags(sim), '--max-retries', '1', '-f', out, '--log-format', 'json']),
    );
    expect(run.code).toBe(4);
    expect(run.stderr).toMatch(/\/api\/users/);
    expect(run.stderr).toMatch(/502/);
  });
});
