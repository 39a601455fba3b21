// @ts-check
/* global process, console, performance, URL */
/**
 * One sync, alone in its process, so that process.resourceUsage().maxRSS is this sync's peak.
 * Plain JavaScript on the built code (dist/), so the process is what `coupa-connector sync` runs
 * and carries no TypeScript loader (tsx's loader thread alone adds ~40 MB of RSS).
 * Prints one JSON line: the sync summary plus timings and memory (SyncChildResult in
 * bench/lib/report.ts).
 *
 *   BENCH_CLIENT_SECRET=… node bench/sync-child.mjs --url URL --client-id ID --out F.c1z
 *
 * Timing is taken around syncToC1z only (not process start-up or module loading). Time spent
 * inside the c1z writer is measured by wrapping C1zWriter's methods in this process only, so the
 * benchmark can tell writing from waiting on Coupa without changing the product code.
 */
import { parseArgs } from 'node:util';
import { ACCOUNTING_READ_SCOPE, CoupaClient, READ_SCOPES } from '../dist/coupa/index.js';
import { C1zWriter } from '../dist/c1z/writer.js';
import { syncToC1z } from '../dist/connector/sync.js';
import { newWalkStats } from '../dist/coupa/paginate.js';

const { values } = parseArgs({
  options: {
    url: { type: 'string' },
    'client-id': { type: 'string' },
    out: { type: 'string' },
    rate: { type: 'string', default: '25' },
    burst: { type: 'string', default: '20' },
  },
});
const secret = process.env.BENCH_CLIENT_SECRET;
if (!values.url || !values['client-id'] || !values.out || !secret) {
  console.error('usage: BENCH_CLIENT_SECRET=… node bench/sync-child.mjs --url URL --client-id ID --out FILE');
  process.exit(2);
}

// Started by bench/run.ts with an IPC channel: if the benchmark goes away, so does this sync.
process.on('disconnect', () => process.exit(130));
// …but the channel must not keep the process alive once the sync is done.
process.channel?.unref();

let writerMs = 0;
const proto = /** @type {Record<string, (...args: unknown[]) => unknown>} */ (
  /** @type {unknown} */ (C1zWriter.prototype)
);
for (const name of ['putResourceType', 'putResource', 'putEntitlement', 'putGrant']) {
  const original = proto[name];
  proto[name] = function (/** @type {unknown[]} */ ...args) {
    const t = performance.now();
    try {
      return original.apply(this, args);
    } finally {
      writerMs += performance.now() - t;
    }
  };
}
let finishCpuMs = 0;
const originalFinish = proto.finish;
proto.finish = async function (/** @type {unknown[]} */ ...args) {
  const t = performance.now();
  const cpu = process.cpuUsage();
  try {
    return await originalFinish.apply(this, args);
  } finally {
    writerMs += performance.now() - t;
    const used = process.cpuUsage(cpu);
    finishCpuMs = (used.user + used.system) / 1000;
  }
};

// When each /api/users request left (after the client's limiter let it go) and when its answer's
// headers came back: shows whether the walk was held by the rate limit or by latency.
/** @type {Array<[start: number, end: number]>} */
const userRequests = [];
const realFetch = globalThis.fetch;
globalThis.fetch = async function (input, init) {
  const start = performance.now();
  const res = await realFetch(input, init);
  if (new URL(String(input)).pathname.endsWith('/api/users')) userRequests.push([start, performance.now()]);
  return res;
};

/** Rate, round trip and occupancy over the users walk (its top page included). */
function walkTrace(/** @type {number} */ lanes) {
  if (userRequests.length < 2) return undefined;
  const first = Math.min(...userRequests.map(([s]) => s));
  const last = Math.max(...userRequests.map(([, e]) => e));
  const rtts = userRequests.map(([s, e]) => e - s).sort((a, b) => a - b);
  // Sweep the start/end events to find how long every lane had a request out.
  const events = userRequests.flatMap(([s, e]) => [
    [s, 1],
    [e, -1],
  ]);
  events.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let inFlight = 0;
  let prev = first;
  let allBusyMs = 0;
  for (const [t, d] of events) {
    if (inFlight >= lanes) allBusyMs += t - prev;
    inFlight += d;
    prev = t;
  }
  const seconds = (last - first) / 1000;
  return {
    requests: userRequests.length,
    seconds,
    perSecond: userRequests.length / seconds,
    rttMeanMs: rtts.reduce((a, b) => a + b, 0) / rtts.length,
    rttP95Ms: rtts[Math.floor(rtts.length * 0.95)],
    allLanesBusyFraction: allBusyMs / (last - first),
  };
}

const rate = Number(values.rate);
const client = new CoupaClient({
  baseUrl: values.url,
  clientId: values['client-id'],
  clientSecret: secret,
  scopes: [...READ_SCOPES, ACCOUNTING_READ_SCOPE],
  rateLimit: rate > 0 ? { perSecond: rate, burst: Number(values.burst) } : false,
});

const baselineRssBytes = process.memoryUsage().rss;
const cpu0 = process.cpuUsage();
const walkStats = newWalkStats();
const t0 = performance.now();
/** @type {number | undefined} */ let usersAt;
/** @type {number | undefined} */ let writingAt;
const summary = await syncToC1z({
  client,
  outPath: values.out,
  walkStats,
  onProgress: (p) => {
    if (p.phase === 'users') usersAt ??= performance.now();
    if (p.phase === 'writing') writingAt ??= performance.now();
  },
});
const t1 = performance.now();
const cpu = process.cpuUsage(cpu0);
const result = {
  summary,
  wallMs: t1 - t0,
  listsMs: (usersAt ?? t1) - t0,
  finishMs: t1 - (writingAt ?? t1),
  finishCpuMs,
  writerMs,
  cpuUserMs: cpu.user / 1000,
  cpuSystemMs: cpu.system / 1000,
  maxRssBytes: process.resourceUsage().maxRSS * 1024,
  baselineRssBytes,
  lanes: walkStats.maxInFlight,
  walkStats,
  walk: walkTrace(walkStats.maxInFlight),
};
process.stdout.write(`${JSON.stringify(result)}\n`);
