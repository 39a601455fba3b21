import { describe, expect, it } from 'vitest';
import { register as globalRegistry } from 'prom-client';
import { createServiceMetrics, METRIC_NAMES, startHealthServer } from '../../../src/c1/ops/index.js';

/** The value of one sample line of a Prometheus text exposition, or undefined when absent. */
function sample(text: string, series: string): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    if (line.slice(0, at) === series) return Number(line.slice(at + 1));
  }
  return undefined;
}

/** Each metric read back the way Prometheus reads it: over HTTP from /metrics. */
async function scrape(metrics: ReturnType<typeof createServiceMetrics>): Promise<string> {
  const server = await startHealthServer({
    host: '127.0.0.1',
    port: 0,
    metrics,
    isReady: () => true,
    checkHealth: async () => {},
  });
  try {
    const res = await fetch(server.url + '/metrics');
    expect(res.status).toBe(200);
    return await res.text();
  } finally {
    await server.close();
  }
}

describe('service metrics', () => {
  it('counts tasks by type and outcome', async () => {
    const m = createServiceMetrics({ defaultMetrics: false });
    m.recordTask('full_sync', 'success');
    m.recordTask('full_sync', 'success');
    m.recordTask('full_sync', 'error');
    m.recordTask('grant', 'not_permitted');
    const text = await scrape(m);
    expect(text).toContain(`# TYPE ${METRIC_NAMES.tasks} counter`);
    expect(sample(text, `${METRIC_NAMES.tasks}{type="full_sync",outcome="success"}`)).toBe(2);
    expect(sample(text, `${METRIC_NAMES.tasks}{type="full_sync",outcome="error"}`)).toBe(1);
    expect(sample(text, `${METRIC_NAMES.tasks}{type="grant",outcome="not_permitted"}`)).toBe(1);
    expect(sample(text, `${METRIC_NAMES.tasks}{type="revoke",outcome="success"}`)).toBeUndefined();
  });

  it('puts sync durations into a histogram with buckets up to hours', async () => {
    const m = createServiceMetrics({ defaultMetrics: false });
    m.observeSync(0.5);
    m.observeSync(42);
    m.observeSync(5000);
    const text = await scrape(m);
    const h = METRIC_NAMES.syncDuration;
    expect(text).toContain(`# TYPE ${h} histogram`);
    expect(sample(text, `${h}_count`)).toBe(3);
    expect(sample(text, `${h}_sum`)).toBeCloseTo(5042.5);
    expect(sample(text, `${h}_bucket{le="1"}`)).toBe(1);
    expect(sample(text, `${h}_bucket{le="60"}`)).toBe(2);
    expect(sample(text, `${h}_bucket{le="3600"}`)).toBe(2);
    expect(sample(text, `${h}_bucket{le="7200"}`)).toBe(3);
    expect(sample(text, `${h}_bucket{le="+Inf"}`)).toBe(3);
  });

  it('adds Coupa requests and 429s, exported at 0 before the first', async () => {
    const m = createServiceMetrics({ defaultMetrics: false });
    const before = await scrape(m);
    expect(sample(before, METRIC_NAMES.coupaRequests)).toBe(0);
    expect(sample(before, METRIC_NAMES.coupaThrottled)).toBe(0);
    m.addCoupaRequests(120, 3);
    m.addCoupaRequests(30, 0);
    const after = await scrape(m);
    expect(sample(after, METRIC_NAMES.coupaRequests)).toBe(150);
    expect(sample(after, METRIC_NAMES.coupaThrottled)).toBe(3);
  });

  it('rejects negative or non-finite amounts instead of corrupting a counter', () => {
    const m = createServiceMetrics({ defaultMetrics: false });
    expect(() => m.addCoupaRequests(-1, 0)).toThrow(RangeError);
    expect(() => m.addCoupaRequests(1, Number.NaN)).toThrow(RangeError);
    expect(() => m.observeSync(-2)).toThrow(RangeError);
  });

  it('reports the last successful sync as Unix seconds, 0 until then', async () => {
    const m = createServiceMetrics({ defaultMetrics: false });
    expect(sample(await scrape(m), METRIC_NAMES.lastSyncSuccess)).toBe(0);
    m.markSyncSuccess(new Date('2026-12-03T05:00:00.500Z'));
    expect(sample(await scrape(m), METRIC_NAMES.lastSyncSuccess)).toBe(
      Date.parse('2026-12-03T05:00:00.500Z') / 1000,
    );
  });

  it('includes the process defaults, and keeps each registry apart from the global one', async () => {
    const a = createServiceMetrics();
    const b = createServiceMetrics();
    a.recordTask('grant', 'success');
    const textA = await scrape(a);
    const textB = await scrape(b);
    for (const name of ['process_resident_memory_bytes', 'process_open_fds', 'nodejs_heap_size_used_bytes']) {
      expect(textA).toMatch(new RegExp(`^${name} \\d`, 'm'));
    }
    expect(sample(textA, `${METRIC_NAMES.tasks}{type="grant",outcome="success"}`)).toBe(1);
    expect(sample(textB, `${METRIC_NAMES.tasks}{type="grant",outcome="success"}`)).toBeUndefined();
    expect(await globalRegistry.metrics()).not.toContain('coupa_connector_');
  });
});
