/// <reference lib="dom" />
/**
 * The HTML report at tenant scale: a simulated tenant (bench/lib/tenant.ts's shape) synced twice
 * into one c1z with a day's worth of changes between the syncs, then `report` timed in a process
 * of its own (bench/report-child.mjs) for its wall time, peak RSS and file size.
 *
 *   npx tsx bench/report.ts [--users 100000] [--changes 0.01]
 *
 * The syncs run without rate limit or latency: they only make the input, they are not measured.
 * Prints the child's JSON line with the tenant's counts added (ReportBenchResult). Where Debian's
 * Chromium is installed, the page is also opened headless and timed: until drawn, and a search of
 * every user for one login.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startSimulator } from '../src/simulator/index.js';
import { ACCOUNTING_READ_SCOPE, CoupaClient, READ_SCOPES } from '../src/coupa/index.js';
import { syncToC1z } from '../src/connector/sync.js';
import { lastJsonLine, runScript } from './lib/child.js';
import { tenantFor } from './lib/tenant.js';
import type { BrowserTimings, ReportBenchResult, ReportChildResult } from './lib/report-bench.js';
import { CHROMIUM, launchChromium } from '../test/report/browser.js';

const { values } = parseArgs({
  options: {
    users: { type: 'string', default: '100000' },
    changes: { type: 'string', default: '0.01' },
  },
});
const users = Number(values.users);
const changeShare = Number(values.changes);
if (!Number.isInteger(users) || users <= 0 || !(changeShare >= 0 && changeShare < 1)) {
  console.error('--users takes a positive whole number, --changes a share below 1');
  process.exit(2);
}

const loadStart = loadavg()[0]!;
const dir = mkdtempSync(join(tmpdir(), 'report-bench-'));
const file = join(dir, 'sync.c1z');
const sim = await startSimulator({ tenant: tenantFor(users), rateLimit: false, latencyMs: 0 });
try {
  const sync = async () => {
    const client = new CoupaClient({
      baseUrl: sim.url,
      clientId: sim.clientId,
      clientSecret: sim.clientSecret,
      scopes: [...READ_SCOPES, ACCOUNTING_READ_SCOPE],
      rateLimit: false,
    });
    const t = performance.now();
    const s = await syncToC1z({ client, outPath: file });
    console.error(
      `  synced ${s.grants.toLocaleString('en-US')} grants in ${((performance.now() - t) / 1000).toFixed(1)} s`,
    );
    return s;
  };
  console.error(`[report] ${users.toLocaleString('en-US')} users: first sync…`);
  await sync();
  // A day of churn: some leave, some gain the Admin role, some lose a license.
  const list = sim.tenant.users.list;
  const n = Math.round(list.length * changeShare);
  for (let i = 0; i < n; i++) {
    const u = list[(i * 7919) % list.length]!;
    if (i % 3 === 0) sim.tenant.updateUser(u.id, { active: false });
    else if (i % 3 === 1) sim.tenant.updateUser(u.id, { roles: [{ id: sim.tenant.roles.list[1]!.id }] });
    else sim.tenant.updateUser(u.id, { 'purchasing-user': false });
  }
  console.error(`[report] ${n.toLocaleString('en-US')} users changed; second sync…`);
  const second = await sync();
  console.error('[report] generating the report in its own process…');
  const child = lastJsonLine<ReportChildResult>(
    await runScript('report-child.mjs', ['--file', file, '--out', join(dir, 'report.html')]),
    'report-child.mjs',
  );
  const browser = existsSync(CHROMIUM)
    ? await timeInBrowser(join(dir, 'report.html'), sim.tenant.users.list.at(-1)!.login)
    : undefined;
  const result: ReportBenchResult = {
    ...child,
    browser,
    loadAverage: [loadStart, loadavg()[0]!],
    users,
    grants: second.grants,
    c1zBytes: second.bytes,
    changedUsers: n,
  };
  console.log(JSON.stringify(result));
} finally {
  await sim.close();
  rmSync(dir, { recursive: true, force: true });
}

/** Opens the report as a reviewer would and times the two waits they notice. */
async function timeInBrowser(html: string, login: string): Promise<BrowserTimings> {
  const browser = await launchChromium();
  try {
    const page = await browser.context.newPage();
    page.setDefaultTimeout(180_000);
    const t0 = performance.now();
    await page.goto(pathToFileURL(html).href);
    await page.waitForSelector('body[data-state=ready]');
    const readySeconds = (performance.now() - t0) / 1000;
    await page.goto(`${pathToFileURL(html).href}#users`);
    await page.waitForSelector('[data-testid="search-users"]');
    const t1 = performance.now();
    await page.fill('[data-testid="search-users"]', login);
    await page.waitForFunction(
      () => document.querySelector('[data-testid="count-users"]')?.getAttribute('data-count') === '1',
    );
    // The search waits 200 ms after the last keystroke on big tables; that pause is not work.
    const searchSeconds = (performance.now() - t1) / 1000;
    const heapMb = await page.evaluate(() => {
      const m = (performance as unknown as { memory?: { usedJSHeapSize: number } }).memory;
      return m ? m.usedJSHeapSize / 1024 / 1024 : null;
    });
    return { readySeconds, searchSeconds, heapMb };
  } finally {
    await browser.close();
  }
}
