/**
 * Not a test: measures a 10k-user sync at Coupa's real limits (25 req/s, burst 20) with 100 ms
 * latency, and prints wall time against the budget of 1.15 × requests/25 s. The simulator runs in
 * its own process (the built CLI's `simulate`), as a remote Coupa would, so that its CPU does not
 * count against the sync's event loop.
 *
 *   npm run build && npx tsx test/sync/measure-10k.ts [users] [latencyMs] [lanes]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ACCOUNTING_READ_SCOPE, CoupaClient, READ_SCOPES } from '../../src/coupa/index.js';
import { syncToC1z } from '../../src/connector/sync.js';

const users = Number(process.argv[2] ?? 10_000);
const latencyMs = Number(process.argv[3] ?? 100);
const lanes = process.argv[4] === undefined ? undefined : Number(process.argv[4]);
const secret = 'measure-sync-secret';
const bin = resolve(import.meta.dirname, '../../bin/coupa-connector.js');

const sim = spawn(process.execPath, [
  bin,
  'simulate',
  '--port',
  '0',
  '--users',
  String(users),
  '--latency',
  `${latencyMs}ms`,
  '--rate-limit',
  '25',
  '--burst',
  '20',
  '--client-secret',
  secret,
]);
const url = await new Promise<string>((ok, fail) => {
  let out = '';
  sim.stdout.on('data', (d) => {
    out += String(d);
    const m = /listening on (http:\/\/\S+)/.exec(out);
    if (m) ok(m[1]!);
  });
  sim.on('exit', (code) => fail(new Error(`simulator exited (${code}): ${out}`)));
});

const dir = mkdtempSync(join(tmpdir(), 'measure-sync-'));
try {
  const client = new CoupaClient({
    baseUrl: url,
    clientId: 'coupa-sim-client',
    clientSecret: secret,
    scopes: [...READ_SCOPES, ACCOUNTING_READ_SCOPE],
  });
  const started = performance.now();
  const summary = await syncToC1z({ client, outPath: join(dir, 'out.c1z'), userLanes: lanes });
  const wallS = (performance.now() - started) / 1000;
  const requests = summary.requests;
  const budgetS = (1.15 * requests) / 25;
  console.log(
    JSON.stringify({
      users,
      latencyMs,
      lanes: lanes ?? 'default',
      requests,
      requestFloor: summary.requestFloor,
      throttled429: summary.throttled,
      wallSeconds: Number(wallS.toFixed(2)),
      idealSeconds: Number((requests / 25).toFixed(2)),
      ratioToIdeal: Number((wallS / (requests / 25)).toFixed(3)),
      budgetSeconds: Number(budgetS.toFixed(2)),
      withinBudget: wallS <= budgetS,
      peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
    }),
  );
} finally {
  sim.kill('SIGINT');
  rmSync(dir, { recursive: true, force: true });
}
