/// <reference lib="dom" />
/**
 * The HTML report, checked twice: its embedded data against the simulator's ground truth, and the
 * page itself in headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core): it
 * draws, its figures and member counts match, the search finds a user, the user's page lists what
 * the ground truth says, and a page that breaks fails the same checks.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { syncToC1z } from '../../src/connector/sync.js';
import { C1zReader } from '../../src/c1z/reader.js';
import { generateReport, type ReportData } from '../../src/report/index.js';
import { holdingsOf, syncedTenant, type GroundTruth } from '../review/helpers.js';
import { CHROMIUM, launchChromium, watchPage } from './browser.js';
import { testClient } from '../helpers/client.js';

/** Screenshots land here; CI keeps the folder as the test's output. */
export const OUTPUT_DIR = resolve(import.meta.dirname, '../../test-results/report');

let tenant: Awaited<ReturnType<typeof syncedTenant>>;
let before: GroundTruth;
let after: GroundTruth;
let reportPath: string;
let data: ReportData;
/** Users the second sync changed, by what happened to them. */
const changed = { deactivated: 0, gainedAdmin: 0, created: 0, removed: 0, hostile: 0 };
const HOSTILE_NAME = '</script><script>window.__owned = 1</script><b>';

function embeddedData(html: string): ReportData {
  const m = /<script type="application\/json" id="report-data">([\s\S]*?)<\/script>/.exec(html);
  if (!m) throw new Error('no embedded data');
  return JSON.parse(m[1]!) as ReportData;
}

beforeAll(async () => {
  tenant = await syncedTenant({ seed: 31, users: 600 });
  before = tenant.gt;
  // Between two syncs: one user deactivated, one given the Admin role, one created, one gone, and
  // one renamed to something that would end the page's script if it were pasted in unescaped.
  const t = tenant.sim.tenant;
  const ids = before.users.filter((u) => u.active && !u.apiUser).map((u) => u.id);
  changed.deactivated = ids[3]!;
  changed.gainedAdmin = before.users.find(
    (u) => !before.memberships.roles.some(([x, r]) => x === u.id && r === 2),
  )!.id;
  changed.removed = ids[7]!;
  changed.hostile = ids[11]!;
  t.updateUser(changed.deactivated, { active: false });
  t.updateUser(changed.gainedAdmin, { roles: [{ id: 2 }] });
  t.updateUser(changed.hostile, { firstname: HOSTILE_NAME });
  t.removeUser(changed.removed);
  changed.created = t.createUser({
    login: 'new.hire',
    email: 'new.hire@example.com',
    firstname: 'New',
    lastname: 'Hire',
  }).id;
  await syncToC1z({ client: testClient(tenant.sim), outPath: tenant.file });
  after = tenant.sim.groundTruth();
  reportPath = join(tenant.dir, 'report.html');
  const result = await generateReport({ file: tenant.file, out: reportPath });
  expect(result.previousSyncId).not.toBeNull();
  data = embeddedData(readFileSync(reportPath, 'utf8'));
});
afterAll(async () => {
  await tenant?.close();
});

describe('report data', () => {
  it('summary figures match the ground truth of the latest sync', () => {
    const holdings = holdingsOf(after);
    let grants = 0;
    for (const h of holdings.values()) grants += h.length;
    expect(data.summary).toMatchObject({
      users: after.users.length,
      activeUsers: after.users.filter((u) => u.active).length,
      inactiveUsers: after.users.filter((u) => !u.active).length,
      apiUsers: after.users.filter((u) => u.apiUser).length,
      grants,
    });
    expect(data.summary.resourcesByKind.role).toBe(after.roles.length);
  });

  it('member lists decode to exactly who holds each entitlement', () => {
    const expected = new Map<string, Set<string>>();
    for (const [uid, held] of holdingsOf(after))
      for (const e of held) (expected.get(e) ?? expected.set(e, new Set()).get(e)!).add(String(uid));
    data.entitlements.forEach((e, i) => {
      let p = 0;
      const ids = data.members[i]!.map((gap) => data.users[(p += gap)]![0]);
      expect([e[0], new Set(ids)]).toEqual([e[0], expected.get(e[0] as string) ?? new Set()]);
    });
  });

  it('changes since the last sync are what happened between the two', () => {
    const c = data.changes!;
    expect(c).not.toBeNull();
    const kinds = ['grant added', 'grant removed', 'user added', 'user removed', 'user changed'];
    const rows = c.rows.map((r) => `${kinds[r[0] as number]}|${r[1]}|${r[3]}`).sort();
    const h1 = holdingsOf(before);
    const h2 = holdingsOf(after);
    const expected: string[] = [];
    for (const [u, held] of h2)
      for (const e of held) if (!h1.get(u)?.includes(e)) expected.push(`grant added|user:${u}|${e}`);
    for (const [u, held] of h1)
      for (const e of held) if (!h2.get(u)?.includes(e)) expected.push(`grant removed|user:${u}|${e}`);
    expected.push(`user added|user:${changed.created}|`, `user removed|user:${changed.removed}|`);
    expected.push(`user changed|user:${changed.deactivated}|`, `user changed|user:${changed.hostile}|`);
    // Whoever reported to the removed user lost their manager: a change of profile.
    for (const u of after.users)
      if (u.id !== changed.removed && before.users.find((b) => b.id === u.id)?.managerId === changed.removed)
        expected.push(`user changed|user:${u.id}|`);
    expect(rows).toEqual(expected.sort());
    const deactivated = c.rows.find((r) => r[1] === `user:${changed.deactivated}`)!;
    expect(deactivated[5]).toBe('was deactivated');
    expect(rows).toContain(`grant added|user:${changed.gainedAdmin}|role:2:member`);
  });

  it('is one file that loads nothing: no URL outside the page, a policy that forbids fetching', () => {
    const html = readFileSync(reportPath, 'utf8');
    expect(html).toContain(`content="default-src 'none';`);
    expect(html).not.toMatch(/\b(src|href)\s*=\s*["']?(https?:)?\/\//i);
    expect(html).not.toMatch(/url\(\s*["']?(https?:)?\/\//i);
    expect(html).not.toMatch(/\bimport\s*\(|fetch\(|XMLHttpRequest/);
    // The hostile name is in the data, escaped: the only closing script tags are the page's own two.
    expect(html.match(/<\/script>/g)).toHaveLength(2);
  });

  it('an unwritable destination is a clear error and leaves an earlier report intact', async () => {
    const keep = join(tenant.dir, 'keep.html');
    writeFileSync(keep, 'earlier report');
    await expect(
      generateReport({ file: tenant.file, out: join(tenant.dir, 'no-such-dir', 'r.html') }),
    ).rejects.toThrow(/Cannot write --out .*no-such-dir.*ENOENT/);
    expect(readFileSync(keep, 'utf8')).toBe('earlier report');
  });
});

interface Expected {
  users: number;
  grants: number;
  /** Entitlement id → members, for the roles tab. */
  roleMembers: Map<string, number>;
  user: { id: number; login: string; fullname: string; holds: number };
}

/**
 * The checks a reviewer's first minute makes, as one function so the broken-page test runs the
 * very same ones. Throws on the first that fails.
 */
async function checkReport(page: Page, url: string, expected: Expected, screenshot?: string): Promise<void> {
  const problems = watchPage(page);
  // Generous for a loaded CI machine, short enough that a broken page fails in seconds.
  page.setDefaultTimeout(8_000);
  await page.goto(url);
  await page.waitForSelector('body[data-state=ready], body[data-state=error]');
  expect(await page.getAttribute('body', 'data-state')).toBe('ready');
  const figure = async (key: string) =>
    Number((await page.textContent(`[data-figure="${key}"]`))!.replace(/,/g, ''));
  expect(await figure('users')).toBe(expected.users);
  expect(await figure('grants')).toBe(expected.grants);
  if (screenshot) await page.screenshot({ path: screenshot, fullPage: true });

  await page.click('a[data-tab="kind/role"]');
  await page.waitForSelector('[data-table="kind-role"]');
  const rows = await page.$$eval('[data-table="kind-role"] tbody tr', (trs) =>
    trs.map((tr) => Array.from(tr.querySelectorAll('td')).map((td) => td.textContent ?? '')),
  );
  expect(rows.length).toBe(expected.roleMembers.size);
  for (const r of rows)
    expect([r[2], Number(r[3]!.replace(/,/g, ''))]).toEqual([r[2], expected.roleMembers.get(r[2]!)]);

  await page.click('a[data-tab="users"]');
  await page.fill('[data-testid="search-users"]', expected.user.login);
  await page.waitForFunction(
    () => document.querySelector('[data-testid="count-users"]')?.getAttribute('data-count') === '1',
    undefined,
    { timeout: 10_000 },
  );
  await page.click(`[data-table="users"] tbody a[data-user="${expected.user.id}"]`);
  await page.waitForSelector('[data-testid="user-name"]');
  expect(await page.textContent('[data-testid="user-name"]')).toBe(expected.user.fullname);
  expect(await page.textContent('[data-field="login"]')).toBe(expected.user.login);
  expect(Number(await page.textContent('[data-testid="user-holds"]'))).toBe(expected.user.holds);
  expect(await page.evaluate(() => (window as unknown as { __owned?: number }).__owned)).toBeUndefined();
  expect(problems.errors).toEqual([]);
  expect(problems.requests).toEqual([]);
}

describe('report in headless Chromium', () => {
  let browser: Awaited<ReturnType<typeof launchChromium>>;
  let expected: Expected;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium); .ci/run does.`,
      );
    }
    browser = await launchChromium();
    mkdirSync(OUTPUT_DIR, { recursive: true });
    const holdings = holdingsOf(after);
    const roleMembers = new Map(after.roles.map((r) => [`role:${r.id}:member`, 0]));
    for (const [, r] of after.memberships.roles)
      roleMembers.set(`role:${r}:member`, roleMembers.get(`role:${r}:member`)! + 1);
    // What the page must show is what the c1z holds; the c1z, in turn, holds the ground truth.
    const reader = await C1zReader.open(tenant.file);
    try {
      const inFile = reader.grantCountsByEntitlement();
      for (const [id, n] of roleMembers) expect([id, inFile.get(id) ?? 0]).toEqual([id, n]);
      expect(reader.stats().resources.user).toBe(after.users.length);
    } finally {
      reader.close();
    }
    const u = after.users.find((x) => x.id === changed.gainedAdmin)!;
    expected = {
      users: after.users.length,
      grants: [...holdings.values()].reduce((n, h) => n + h.length, 0),
      roleMembers,
      user: { id: u.id, login: u.login, fullname: u.fullname, holds: holdings.get(u.id)!.length },
    };
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('renders; figures, role members, search and the user page match the c1z; saves a screenshot', async () => {
    const page = await browser.context.newPage();
    const shot = join(OUTPUT_DIR, 'summary.png');
    await checkReport(page, pathToFileURL(reportPath).href, expected, shot);
    expect(readFileSync(shot).subarray(1, 4).toString()).toBe('PNG');
    // The renamed user shows the hostile text as text.
    await page.goto(`${pathToFileURL(reportPath).href}#user/${changed.hostile}`);
    await page.waitForSelector('[data-testid="user-name"]');
    expect(await page.textContent('[data-testid="user-name"]')).toContain('</script>');
    await page.goto(`${pathToFileURL(reportPath).href}#changes`);
    await page.waitForSelector('[data-table="changes"]');
    expect(Number(await page.getAttribute('[data-testid="count-changes"]', 'data-count'))).toBe(
      data.changes!.rows.length,
    );
    await page.screenshot({ path: join(OUTPUT_DIR, 'changes.png') });
    await page.close();
  });

  it('the same checks fail on a page that breaks', async () => {
    const html = readFileSync(reportPath, 'utf8');
    const broken = [
      // Data cut short: the script cannot parse it.
      html.replace(/("users":\[\[)/, '$1{'),
      // A view that throws when drawn.
      html.replace('function userView(id) {', 'function userView(id) { throw new Error("boom");'),
      // Counts off by one.
      html.replace(/"users":(\d+),"activeUsers"/, (_, n: string) => `"users":${Number(n) + 1},"activeUsers"`),
    ];
    for (const [i, text] of broken.entries()) {
      expect(text).not.toBe(html);
      const path = join(tenant.dir, `broken-${i}.html`);
      writeFileSync(path, text);
      const page = await browser.context.newPage();
      await expect(checkReport(page, pathToFileURL(path).href, expected)).rejects.toThrow();
      await page.close();
    }
  });
});
