/**
 * Each review query against the simulator's ground truth: the expected answer is computed here from
 * the tenant the simulator served, never from the c1z or the query code.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { C1zReader } from '../../src/c1z/reader.js';
import { AccessDirectory } from '../../src/c1z/directory.js';
import { runQuery, type QueryId, type QueryResult } from '../../src/c1z/review-queries.js';
import { parseSodRules } from '../../src/c1z/sod-rules.js';
import { createReviewCommand } from '../../src/cli/commands/review.js';
import { ConfigError } from '../../src/errors.js';
import { holdingsOf, parseCsv, runCaptured, syncedTenant, type GroundTruth } from './helpers.js';

let tenant: Awaited<ReturnType<typeof syncedTenant>>;
let gt: GroundTruth;
let dir: AccessDirectory;
let holdings: Map<number, string[]>;

beforeAll(async () => {
  tenant = await syncedTenant({ seed: 16, users: 900 });
  gt = tenant.gt;
  holdings = holdingsOf(gt);
  const reader = await C1zReader.open(tenant.file);
  try {
    dir = AccessDirectory.load(reader);
  } finally {
    reader.close();
  }
});
afterAll(async () => {
  await tenant?.close();
});

/** A finding as `<user id>|<entitlement id>` (entitlement empty when the finding has none). */
function pairs(r: QueryResult): string[] {
  return r.findings
    .map(
      (f) =>
        `${dir.users[f.user]!.id}|${f.entitlement === undefined ? '' : dir.entitlements[f.entitlement]!.id}`,
    )
    .sort();
}

const roleEnt = (id: number) => `role:${id}:member`;

describe('review queries agree with the ground truth', () => {
  it('inactive-access: every grant of every deactivated user, nothing of active ones', () => {
    const expected: string[] = [];
    for (const u of gt.users)
      if (!u.active) for (const e of holdings.get(u.id)!) expected.push(`${u.id}|${e}`);
    expect(expected.length).toBeGreaterThan(50);
    const r = runQuery(dir, 'inactive-access');
    expect(pairs(r)).toEqual(expected.sort());
    expect(r.users).toBe(gt.users.filter((u) => !u.active && holdings.get(u.id)!.length > 0).length);
    // Licenses, roles and groups all show up: the question is about every kind of access.
    const kinds = new Set(r.findings.map((f) => dir.entitlements[f.entitlement!]!.resourceType));
    for (const k of ['license', 'role', 'group']) expect(kinds).toContain(k);
  });

  it('admin-access: holders of roles named like admin (the default pattern)', () => {
    const pattern = /admin|super ?user/i;
    const admin = new Set(gt.roles.filter((r) => r.omnipotent || pattern.test(r.name)).map((r) => r.id));
    expect([...admin].length).toBeGreaterThan(2);
    const expected = gt.memberships.roles
      .filter(([, r]) => admin.has(r))
      .map(([u, r]) => `${u}|${roleEnt(r)}`);
    const r = runQuery(dir, 'admin-access');
    expect(pairs(r)).toEqual(expected.sort());
  });

  it('admin-access: a pattern of its own replaces the default', () => {
    const r = runQuery(dir, 'admin-access', { adminPattern: '^buyer$' });
    const buyer = gt.roles.filter((x) => x.name === 'Buyer' || x.omnipotent).map((x) => x.id);
    const expected = gt.memberships.roles
      .filter(([, x]) => buyer.includes(x))
      .map(([u, x]) => `${u}|${roleEnt(x)}`);
    expect(pairs(r)).toEqual(expected.sort());
    expect(r.parameters.adminPattern).toBe('^buyer$');
  });

  it('no-sso: active human users whose sign-in is not SAML, with the method as the reason', () => {
    const expected = gt.users
      .filter((u) => u.active && !u.apiUser && u.authenticationMethod !== 'saml')
      .map((u) => `${u.id}|${u.authenticationMethod}`)
      .sort();
    expect(expected.length).toBeGreaterThan(50);
    // LDAP counts as not SSO too: it signs in with a directory password, not through the IdP.
    expect(expected.some((e) => e.endsWith('|ldap'))).toBe(true);
    const r = runQuery(dir, 'no-sso');
    expect(r.findings.map((f) => `${dir.users[f.user]!.id}|${f.reason}`).sort()).toEqual(expected);
    expect(r.notes).toEqual([]);
  });

  it('api-users: each API user with each thing it holds', () => {
    const expected: string[] = [];
    for (const u of gt.users) {
      if (!u.apiUser) continue;
      const held = holdings.get(u.id)!;
      if (held.length === 0) expected.push(`${u.id}|`);
      for (const e of held) expected.push(`${u.id}|${e}`);
    }
    expect(expected.length).toBeGreaterThan(5);
    const r = runQuery(dir, 'api-users');
    expect(pairs(r)).toEqual(expected.sort());
    // Our files say who is an API user: nothing to warn about (a baton-coupa file gets a note).
    expect(r.notes).toEqual([]);
  });

  it('sod-conflicts: the built-in pairs (Buyer + AP Clerk, Supplier Manager + AP Clerk)', () => {
    const byName = (name: string) => gt.roles.find((r) => r.name === name)!.id;
    const rolesOf = new Map<number, Set<number>>();
    for (const [u, r] of gt.memberships.roles) (rolesOf.get(u) ?? rolesOf.set(u, new Set()).get(u)!).add(r);
    const expected: string[] = [];
    for (const [rule, a, b] of [
      ['Buyer + AP Clerk', 'Buyer', 'AP Clerk'],
      ['Supplier Manager + AP Clerk', 'Supplier Manager', 'AP Clerk'],
    ] as const) {
      for (const [u, roles] of rolesOf)
        if (roles.has(byName(a)) && roles.has(byName(b))) expected.push(`${u}|${rule}`);
    }
    expect(expected.length).toBeGreaterThan(3);
    const r = runQuery(dir, 'sod-conflicts');
    expect(r.findings.map((f) => `${dir.users[f.user]!.id}|${f.reason}`).sort()).toEqual(expected.sort());
    // Each finding names one entitlement from each side.
    for (const f of r.findings) {
      expect(dir.entitlements[f.other!]!.resourceName).toBe('AP Clerk');
    }
  });

  it('sod-conflicts: a rules file of its own, by license name and role id', () => {
    const rules = parseSodRules(
      JSON.stringify({
        rules: [
          {
            name: 'Purchasing + Approver',
            left: 'license:Purchasing',
            right: ['role:1', 'role:No Such Role'],
          },
        ],
      }),
      'rules.json',
    );
    const purchasing = new Set(
      gt.memberships.licenses.filter(([, f]) => f === 'purchasing-user').map(([u]) => u),
    );
    const approvers = new Set(gt.memberships.roles.filter(([, r]) => r === 1).map(([u]) => u));
    const expected = [...purchasing]
      .filter((u) => approvers.has(u))
      .map(String)
      .sort();
    expect(expected.length).toBeGreaterThan(3);
    const r = runQuery(dir, 'sod-conflicts', { sodRules: rules });
    expect(r.findings.map((f) => dir.users[f.user]!.id).sort()).toEqual(expected);
    expect(r.notes).toEqual([]);
    // A side that matches nothing at all is worth a note: the rule could never fire.
    const dead = runQuery(dir, 'sod-conflicts', {
      sodRules: parseSodRules('{"rules":[{"name":"x","left":"role:Nobody","right":"role:Buyer"}]}', 'r.json'),
    });
    expect(dead.findings).toEqual([]);
    expect(dead.notes.join()).toMatch(/role:Nobody matches no entitlement/);
  });

  it('a malformed rules file is a usage error naming the file and the problem', () => {
    expect(() => parseSodRules('{"rules":[{"name":"x","left":"role:A"}]}', 'my-rules.json')).toThrow(
      /my-rules\.json: rules\.0\.right/,
    );
    expect(() => parseSodRules('not json', 'my-rules.json')).toThrow(ConfigError);
  });
});

describe('review command output', () => {
  const query = (id: QueryId, ...args: string[]) =>
    runCaptured(createReviewCommand, 'review', id, '-f', tenant.file, ...args);

  it('prints the same findings as console, JSON and CSV', async () => {
    const expected = runQuery(dir, 'inactive-access');
    const json = JSON.parse((await query('inactive-access', '-o', 'json')).out);
    expect(json.query).toBe('inactive-access');
    expect(json.count).toBe(expected.findings.length);
    expect(json.summary).toEqual({ findings: expected.findings.length, users: expected.users });
    const first = json.findings[0];
    expect(first.user).toMatchObject({ status: 'disabled', login: expect.any(String) });
    expect(first.entitlement.id).toMatch(/:(member|assigned)$/);

    const csv = parseCsv((await query('inactive-access', '-o', 'csv')).out);
    expect(csv[0]).toEqual([
      'User',
      'Name',
      'Login',
      'Email',
      'Status',
      'User Type',
      'Manager',
      'Entitlement',
      'Entitlement Name',
      'Kind',
    ]);
    expect(
      csv
        .slice(1)
        .map((r) => `${r[0]!.replace('user:', '')}|${r[7]}`)
        .sort(),
    ).toEqual(pairs(expected));
    expect(csv.slice(1).every((r) => r[4] === 'disabled')).toBe(true);

    const console = (await query('inactive-access')).out.split('\n');
    expect(console[0]).toBe(
      `Inactive users still holding access: ${expected.findings.length} finding(s), ${expected.users} user(s)`,
    );
    expect(console.filter((l) => /^user:\d+ /.test(l))).toHaveLength(expected.findings.length);
  });

  it('--sod-rules reads the file; a missing file or a bad --admin-pattern is a usage error', async () => {
    const rules = join(tenant.dir, 'rules.json');
    writeFileSync(
      rules,
      JSON.stringify({ rules: [{ name: 'Buyer + Approver', left: 'role:Buyer', right: 'role:Approver' }] }),
    );
    const json = JSON.parse((await query('sod-conflicts', '--sod-rules', rules, '-o', 'json')).out);
    const buyers = new Set(gt.memberships.roles.filter(([, r]) => r === 4).map(([u]) => u));
    const both = gt.memberships.roles.filter(([u, r]) => r === 1 && buyers.has(u)).length;
    expect(json.count).toBe(both);
    expect(json.parameters.rules[0].name).toBe('Buyer + Approver');
    await expect(query('sod-conflicts', '--sod-rules', join(tenant.dir, 'nope.json'))).rejects.toThrow(
      /Cannot read the separation-of-duties rules file/,
    );
    await expect(query('admin-access', '--admin-pattern', '(')).rejects.toThrow(/not a regular expression/);
  });
});
