import { describe, expect, it } from 'vitest';
import {
  errorBackoffMs,
  heartbeatMs,
  helloBackoffMs,
  nextPollMs,
  pause,
  POLL_FLOOR_MS,
} from '../../src/c1/backoff.js';

describe('task loop pacing', () => {
  it('backs off n² seconds after n failed polls, capped at 60 s', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8, 9, 20].map(errorBackoffMs)).toEqual(
      [1, 4, 9, 16, 25, 36, 49, 60, 60, 60].map((s) => s * 1000),
    );
  });

  it('never polls faster than the floor when the server sends 0 or nothing, and at most every 5 min', () => {
    expect(nextPollMs(0, false)).toBe(POLL_FLOOR_MS);
    expect(nextPollMs(undefined, false)).toBe(POLL_FLOOR_MS);
    expect(nextPollMs(-5, false)).toBe(POLL_FLOOR_MS);
    expect(nextPollMs(3000, false)).toBe(3000);
    expect(nextPollMs(3_600_000, false)).toBe(300_000);
    // A poll that returned a task is followed quickly: each one consumed a task, so no spin.
    expect(nextPollMs(0, true)).toBeLessThan(POLL_FLOOR_MS);
  });

  it('heartbeats within [1 s, 5 min], 30 s by default', () => {
    expect(heartbeatMs(undefined)).toBe(30_000);
    expect(heartbeatMs(0)).toBe(30_000);
    expect(heartbeatMs(10)).toBe(1000);
    expect(heartbeatMs(2000)).toBe(2000);
    expect(heartbeatMs(1e9)).toBe(300_000);
  });

  it('retries Hello 1 s doubling up to 5 min', () => {
    expect([0, 1, 2, 3, 8, 9, 30].map(helloBackoffMs)).toEqual([
      1000, 2000, 4000, 8000, 256_000, 300_000, 300_000,
    ]);
  });

  it('a pause ends early, without throwing, when its signal aborts', async () => {
    const c = new AbortController();
    const p = pause(60_000, c.signal);
    c.abort();
    await expect(p).resolves.toBeUndefined();
  });
});
