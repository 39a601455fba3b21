/**
 * The screenshots in docs/access-reviews.md, taken the way the browser test takes its own: Debian's
 * headless Chromium driven by playwright-core, on a report of a simulated tenant synced twice.
 *
 *   npx tsx bench/report-screenshot.ts [--users 3000] [--out docs/images]
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { startSimulator, type UserRecord } from '../src/simulator/index.js';
import { ACCOUNTING_READ_SCOPE, CoupaClient, READ_SCOPES } from '../src/coupa/index.js';
import { syncToC1z } from '../src/connector/sync.js';
import { generateReport } from '../src/report/index.js';
import { launchChromium } from '../test/report/browser.js';

const { values } = parseArgs({
  options: { users: { type: 'string', default: '3000' }, out: { type: 'string', default: 'docs/images' } },
});
const out = resolve(values.out);
mkdirSync(out, { recursive: true });
const dir = mkdtempSync(join(tmpdir(), 'report-shot-'));
const sim = await startSimulator({
  tenant: { seed: 3, users: Number(values.users), roles: 16, userGroups: 24 },
  rateLimit: false,
  latencyMs: 0,
});
const browser = await launchChromium({ width: 1280, height: 820 });
try {
  const file = join(dir, 'sync.c1z');
  const sync = () =>
    syncToC1z({
      client: new CoupaClient({
        baseUrl: sim.url,
        clientId: sim.clientId,
        clientSecret: sim.clientSecret,
        scopes: [...READ_SCOPES, ACCOUNTING_READ_SCOPE],
        rateLimit: false,
      }),
      outPath: file,
    });
  await sync();
  const users = sim.tenant.users.list;
  for (let i = 0; i < 12; i++)
    sim.tenant.updateUser(users[i * 37]!.id, i % 2 ? { active: false } : { roles: [{ id: 2 }] });
  await sync();
  const html = join(dir, 'report.html');
  await generateReport({ file, out: html, now: new Date('2026-12-01T09:00:00Z') });
  const page = await browser.context.newPage();
  const shots: Array<[string, string]> = [
    ['', 'report-summary.png'],
    ['#findings/inactive-access', 'report-findings.png'],
    ['#kind/role', 'report-roles.png'],
    // A reviewer's typical case: deactivated, still holding access, with limits and no SSO.
    [`#user/${reviewCase(users).id}`, 'report-user.png'],
  ];
  for (const [hash, name] of shots) {
    await page.goto(pathToFileURL(html).href + hash);
    await page.waitForSelector('body[data-state=ready]');
    await page.screenshot({ path: join(out, name), fullPage: hash === '' });
    console.log(`wrote ${join(values.out, name)}`);
  }
} finally {
  await browser.close();
  await sim.close();
  rmSync(dir, { recursive: true, force: true });
}

function reviewCase(users: readonly UserRecord[]): UserRecord {
  const score = (u: UserRecord) =>
    (u.active ? 0 : 4) +
    (u.approvalLimits ? 2 : 0) +
    (u.authenticationMethod !== 'saml' ? 1 : 0) +
    (u.managerId !== null ? 1 : 0);
  return users.reduce((best, u) => (score(u) > score(best) ? u : best));
}
