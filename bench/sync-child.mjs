// @ts-check
/* global process, console, performance */
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

const { values } = parseArgs({
  options: {
    url: { type: 'string' },
    'client-id': { type: 'string' },
    out: { type: 'string' },
    rate: { type: 'string', default: '25' },
    burst: { type: 'string', default: '20' },
    lanes: { type: 'string' },
  },
});
const secret = process.env.BENCH_CLIENT_SECRET;
if (!values.url || !values['client-id'] || !values.out || !secret) {
  console.error('usage: BENCH_CLIENT_SECRET=… node bench/sync-child.mjs --url URL --client-id ID --out FILE');
  process.exit(2);
}

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
const originalFinish = proto.finish;
proto.finish = async function (/** @type {unknown[]} */ ...args) {
  const t = performance.now();
  try {
    return await originalFinish.apply(this, args);
  } finally {
    writerMs += performance.now() - t;
  }
};

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
const t0 = performance.now();
/** @type {number | undefined} */ let usersAt;
/** @type {number | undefined} */ let writingAt;
const summary = await syncToC1z({
  client,
  outPath: values.out,
  userLanes: values.lanes ? Number(values.lanes) : undefined,
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
  writerMs,
  cpuUserMs: cpu.user / 1000,
  cpuSystemMs: cpu.system / 1000,
  maxRssBytes: process.resourceUsage().maxRSS * 1024,
  baselineRssBytes,
};
process.stdout.write(`${JSON.stringify(result)}\n`);
