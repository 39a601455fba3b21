import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { CoupaClient, READ_SCOPES } from '../../src/coupa/index.js';
import { BURST_SAFETY_MARGIN, RATE_SAFETY_FACTOR, RateLimiter } from '../../src/coupa/rate-limiter.js';
import {
  CLIENT_ID,
  CLIENT_SECRET,
  json,
  startFake,
  type FakeServer,
  fakeClient,
} from './helpers/fake-coupa.js';

let fake: FakeServer | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

describe('RateLimiter (fake clock)', () => {
  it('lets the burst (minus the margin) through at once, then spaces at the reduced rate', () => {
    let now = 0;
    const limiter = new RateLimiter({ perSecond: 25, burst: 20 }, () => now);
    // The documented margin (docs/client.md): a burst of 18, then 24 requests per second.
    expect(BURST_SAFETY_MARGIN).toBe(2);
    expect(RATE_SAFETY_FACTOR).toBe(0.96);
    const burst = 18;
    const waits = Array.from({ length: burst + 3 }, () => limiter.reserve());
    expect(waits.slice(0, burst)).toEqual(Array(burst).fill(0));
    const interval = 1000 / 24;
    expect(waits[burst]).toBeCloseTo(interval, 6);
    expect(waits[burst + 2]).toBeCloseTo(3 * interval, 6);
    // An idle second refills part of the bucket.
    now = 2000;
    expect(limiter.reserve()).toBe(0);
  });

  it('never exceeds a leaky bucket of the nominal 25/s burst 20, whatever the arrival pattern', () => {
    let now = 0;
    const limiter = new RateLimiter({ perSecond: 25, burst: 20 }, () => now);
    let level = 0;
    let last = 0;
    for (let i = 0; i < 2000; i++) {
      now += (i * 7919) % 13 === 0 ? 500 : (i * 31) % 5; // bursts of callers, occasional pauses
      const sendAt = now + limiter.reserve();
      level = Math.max(0, level - ((sendAt - last) / 1000) * 25);
      last = Math.max(last, sendAt);
      level += 1;
      // The margin means we never even touch the last BURST_SAFETY_MARGIN tokens.
      expect(level).toBeLessThanOrEqual(20 - BURST_SAFETY_MARGIN + 1e-9);
    }
  });

  it('drain() (after a 429) drops the remaining burst: the sustained rate applies at once', () => {
    const now = 0;
    const limiter = new RateLimiter({ perSecond: 25, burst: 20 }, () => now);
    expect(limiter.reserve()).toBe(0);
    limiter.drain();
    const interval = 1000 / 24;
    expect(limiter.reserve()).toBe(0);
    expect(limiter.reserve()).toBeCloseTo(interval, 6);
    expect(limiter.reserve()).toBeCloseTo(2 * interval, 6);
  });
});

describe('client rate limit (real time)', () => {
  it('60 requests at 25/s burst 20 take at least (60 − burst)/rate, token request included', async () => {
    fake = await startFake({ api: (_r, res) => json(res, 200, {}) });
    const c = new CoupaClient({
      baseUrl: fake.url,
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      scopes: READ_SCOPES,
    });
    const started = performance.now();
    await Promise.all(Array.from({ length: 59 }, () => c.get('/api/roles', { schema: z.unknown() })));
    const ms = performance.now() - started;
    expect(c.stats().requests).toBe(60);
    expect(ms).toBeGreaterThanOrEqual(((60 - 20) / 25) * 1000); // 1.6 s at the nominal figures
    // The pacing itself is (60 − 18) / 24 = 1.75 s (checked exactly with a fake clock above); this
    // bound only catches gross errors, since a loaded CI machine can add a second or more.
    expect(ms).toBeLessThan(5000);
    // (Whether the server's bucket ever overflows is checked exactly with a fake clock above, and
    // against the simulator's bucket in simulator.test.ts; arrival times recorded in this same busy
    // process bunch up and would make that check flaky here.)
  });

  it('rateLimit: false sends without pacing', async () => {
    fake = await startFake({ api: (_r, res) => json(res, 200, {}) });
    const c = fakeClient(fake.url, { rateLimit: false }); // the point of this test, so said here too
    const started = performance.now();
    await Promise.all(Array.from({ length: 59 }, () => c.get('/api/roles', { schema: z.unknown() })));
    // Paced, the same requests cannot take less than 1.6 s.
    expect(performance.now() - started).toBeLessThan(1600);
  });
});
