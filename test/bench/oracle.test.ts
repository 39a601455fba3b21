import { describe, expect, it } from 'vitest';
import { unbeatableWallS } from '../../bench/lib/oracle.js';

describe('the unbeatable wall time of a latency cell', () => {
  it('is the bucket alone when answers are instant: (requests − burst) / rate', () => {
    const s = unbeatableWallS({
      requests: 208,
      perSecond: 25,
      burst: 20,
      latency: { kind: 'fixed', ms: 0 },
    });
    expect(s).toBeCloseTo((208 - 20) / 25, 6);
  });

  it('adds at least two round trips (token, last answer) and grows with the spread of latencies', () => {
    const bound = (medianMs: number) =>
      unbeatableWallS({
        requests: 208,
        perSecond: 25,
        burst: 20,
        latency: { kind: 'lognormal', medianMs, p99Ms: 3 * medianMs },
        draws: 50,
      });
    const fixed = unbeatableWallS({
      requests: 208,
      perSecond: 25,
      burst: 20,
      latency: { kind: 'fixed', ms: 1000 },
    });
    expect(fixed).toBeCloseTo((208 - 20) / 25 + 2, 6);
    expect(bound(1000)).toBeGreaterThan(fixed);
    expect(bound(2000)).toBeGreaterThan(bound(1000) + 2);
  });
});
