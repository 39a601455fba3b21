import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Simulator } from '../../src/simulator/index.js';
import { ExitCode } from '../../src/errors.js';
import {
  ArrayModeMemory,
  ChangeRejectedError,
  Journal,
  LicenseRevocationRefusedError,
  NeedsRecoveryError,
  UnknownEntitlementError,
  UnknownUserError,
} from '../../src/connector/provisioning/index.js';
import {
  arrange,
  holdings,
  provisionerFor,
  readJsonLines,
  writeCount,
  PROVISIONING_CLIENT,
  TENANT,
} from './helpers.js';
import { testClient } from '../helpers/client.js';
import { testSimulatorWithDir } from '../helpers/simulator.js';

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup) await c();
  cleanup = [];
});

async function setup(
  opts: Parameters<typeof testSimulatorWithDir>[0] = {},
): Promise<{ sim: Simulator; dir: string }> {
  const t = await testSimulatorWithDir({ tenant: TENANT, ...opts });
  cleanup.push(t.stop);
  return t;
}

describe('dry run', () => {
  it('prints the planned calls and sends no write', async () => {
    const { sim, dir } = await setup();
    arrange(sim, 3, 'role', [2, 3, 4]);
    arrange(sim, 3, 'license', ['expense-user']);
    const p = provisionerFor(sim, dir, { dryRun: true });
    sim.resetCounters();
    const revoke = await p.revoke('role:3:member', 3);
    const grant = await p.grant('group:2:member', 3);
    const license = await p.revoke('license:expense-user:assigned', 3);
    const create = await p.createAccount({
      login: 'dry',
      email: 'dry@example.com',
      profile: { firstname: 'D', lastname: 'R' },
    });
    const disable = await p.disableUser(3);
    for (const r of [revoke, grant, license, create, disable]) expect(r.outcome).toBe('planned');
    expect(writeCount(sim)).toBe(0);
    expect(sim.counters().byRoute['GET /api/users/:id']).toBeGreaterThan(0);
    expect(holdings(sim, 3, 'role')).toEqual([2, 3, 4]);
    expect(holdings(sim, 3, 'license')).toEqual(['expense-user']);
    expect(sim.groundTruth().users.some((u) => u.login === 'dry')).toBe(false);
    // The plan names the writes: the full remaining list, by id.
    expect(revoke.plannedCalls?.[0]).toEqual({
      method: 'PUT',
      path: '/api/users/3',
      body: { roles: [{ id: 2 }, { id: 4 }] },
      note: 'done if the tenant replaces arrays',
    });
    expect(license.plannedCalls).toEqual([
      { method: 'PUT', path: '/api/users/3', body: { 'expense-user': false } },
    ]);
    expect(create.plannedCalls?.[0]?.method).toBe('POST');
    // A dry run writes neither journal nor audit log.
    expect(existsSync(join(dir, 'journal.jsonl'))).toBe(false);
    expect(existsSync(join(dir, 'audit.jsonl'))).toBe(false);
  });
});

describe('audit log', () => {
  it('appends one parseable line per change, with before/after and no secret', async () => {
    const { sim, dir } = await setup();
    arrange(sim, 2, 'role', [2, 3]);
    const p = provisionerFor(sim, dir);
    await p.grant('role:4:member', 2);
    await p.grant('role:4:member', 2);
    await p.revoke('role:2:member', 2);
    await expect(p.grant('role:4:member', 999)).rejects.toThrow();
    const lines = readJsonLines(join(dir, 'audit.jsonl')) as Record<string, unknown>[];
    expect(lines).toHaveLength(4);
    expect(lines.map((l) => [l.operation, l.result])).toEqual([
      ['grant', 'ok'],
      ['grant', 'already'],
      ['revoke', 'ok'],
      ['grant', 'error'],
    ]);
    for (const l of lines) {
      expect(Number.isNaN(Date.parse(String(l.time)))).toBe(false);
      expect(l.baseUrl).toBe(sim.url);
      expect(l.entitlement).toMatch(/^role:\d:member$/);
    }
    expect(lines[0]).toMatchObject({
      userId: 2,
      before: [{ id: 2 }, { id: 3 }],
      after: [{ id: 2 }, { id: 3 }, { id: 4 }],
    });
    expect(lines[3]?.message).toMatch(/no user "999"/);
    const text = readFileSync(join(dir, 'audit.jsonl'), 'utf8');
    expect(text).not.toContain(sim.clientSecret);
    expect(text.toLowerCase()).not.toContain('bearer');
  });
});

describe('concurrency', () => {
  it('serialises a grant and a revoke on the same user so both land', async () => {
    const { sim, dir } = await setup({ arrayMode: 'merge', latencyMs: 5 });
    arrange(sim, 4, 'group', [1, 2, 3]);
    const p = provisionerFor(sim, dir);
    await p.revoke('group:3:member', 4); // learn the mode first: the race below is clear-then-set vs grant
    arrange(sim, 4, 'group', [1, 2, 3]);
    const [revoke, grant, revoke2] = await Promise.all([
      p.revoke('group:1:member', 4),
      p.grant('group:5:member', 4),
      p.revoke('group:2:member', 4),
    ]);
    expect([revoke.outcome, grant.outcome, revoke2.outcome]).toEqual(['revoked', 'granted', 'revoked']);
    expect(holdings(sim, 4, 'group')).toEqual([3, 5]);
  });

  it('runs different users concurrently', async () => {
    const { sim, dir } = await setup({ latencyMs: 80 });
    for (const u of [1, 2, 3, 4]) arrange(sim, u, 'role', [2]);
    const p = provisionerFor(sim, dir);
    await p.grant('role:3:member', 5); // token fetched outside the timing
    const started = performance.now();
    await Promise.all([1, 2, 3, 4].map((u) => p.grant('role:3:member', u)));
    const elapsed = performance.now() - started;
    // Each grant is a GET, a PUT and the read-back GET, each held 80 ms by the simulator: four in
    // a row cannot take less than 960 ms, whatever the machine's load, so anything below that ran
    // side by side.
    expect(elapsed).toBeLessThan(960);
    for (const u of [1, 2, 3, 4]) expect(holdings(sim, u, 'role')).toEqual([2, 3]);
  });
});

describe('licenses', () => {
  it('fails when Coupa keeps a license it was asked to remove', async () => {
    const { sim, dir } = await setup({ unrevokableLicenses: ['purchasing-user'] });
    arrange(sim, 6, 'license', ['purchasing-user', 'expense-user']);
    const p = provisionerFor(sim, dir);
    const err = await p.revoke('license:purchasing-user:assigned', 6).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LicenseRevocationRefusedError);
    expect(String((err as Error).message)).toMatch(/purchasing-user.*user 6.*still holds it/);
    expect(holdings(sim, 6, 'license')).toEqual(['expense-user', 'purchasing-user']);
    // Other licenses still go.
    expect((await p.revoke('license:expense-user:assigned', 6)).outcome).toBe('revoked');
    const audit = readJsonLines(join(dir, 'audit.jsonl')) as { result: string }[];
    expect(audit[0]?.result).toBe('error');
  });

  it("maps baton-coupa's treasury_user id to Coupa's treasury-user flag", async () => {
    const { sim, dir } = await setup();
    arrange(sim, 7, 'license', []);
    const p = provisionerFor(sim, dir);
    await p.grant('license:treasury_user:assigned', 7);
    expect(holdings(sim, 7, 'license')).toEqual(['treasury-user']);
    await p.revokeGrant('license:treasury_user:assigned:user:7');
    expect(holdings(sim, 7, 'license')).toEqual([]);
  });
});

describe('accounts', () => {
  it('creates a user with its profile and licenses (201) and reports the id', async () => {
    const { sim, dir } = await setup();
    const manager = sim.groundTruth().users[0]!;
    const p = provisionerFor(sim, dir);
    sim.resetCounters();
    const r = await p.createAccount({
      login: 'ada.l',
      email: 'ada@example.com',
      profile: JSON.stringify({
        first_name: 'Ada',
        last_name: 'Lovelace',
        sso_identifier: 'ada-sso',
        employee_number: 'E-1815',
        manager_login: manager.login,
        licenses: ['expense-user', 'treasury_user'],
        authentication_method: 'saml',
      }),
    });
    expect(r.outcome).toBe('created');
    expect(r.message).toContain(`id ${r.userId}`);
    expect(sim.counters().byRouteStatus['POST /api/users']).toEqual({ '201': 1 });
    const created = sim.groundTruth().users.find((u) => u.login === 'ada.l');
    expect(created).toMatchObject({
      id: r.userId,
      email: 'ada@example.com',
      fullname: 'Ada Lovelace',
      active: true,
    });
    expect(holdings(sim, r.userId, 'license')).toEqual(['expense-user', 'treasury-user']);
    const rec = sim.tenant.users.get(r.userId)!;
    expect(rec).toMatchObject({
      ssoIdentifier: 'ada-sso',
      employeeNumber: 'E-1815',
      authenticationMethod: 'saml',
      managerId: manager.id,
    });
  });

  it('reports a duplicate login as Coupa words it, and creates nothing', async () => {
    const { sim, dir } = await setup();
    const existing = sim.groundTruth().users[1]!;
    const p = provisionerFor(sim, dir);
    const before = sim.groundTruth().users.length;
    const err = await p
      .createAccount({
        login: existing.login,
        email: 'other@example.com',
        profile: { firstname: 'A', lastname: 'B' },
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ChangeRejectedError);
    expect((err as Error).message).toMatch(/Login has already been taken/);
    expect(sim.groundTruth().users.length).toBe(before);
  });

  it('rejects a bad profile before calling Coupa', async () => {
    const { sim, dir } = await setup();
    const p = provisionerFor(sim, dir);
    sim.resetCounters();
    await expect(
      p.createAccount({ login: 'x', email: 'x@example.com', profile: '{"firstname":"A"}' }),
    ).rejects.toThrow(/lastname/);
    await expect(p.createAccount({ login: 'x', email: 'x@example.com', profile: '{nope' })).rejects.toThrow(
      /not valid JSON/,
    );
    await expect(
      p.createAccount({
        login: 'x',
        email: 'x@example.com',
        profile: { firstname: 'A', lastname: 'B', licenses: ['moon-user'] },
      }),
    ).rejects.toThrow(/unknown license "moon-user"/);
    await expect(
      p.createAccount({
        login: 'x',
        email: 'x@example.com',
        profile: { firstname: 'A', lastname: 'B', sso: 'typo' } as never,
      }),
    ).rejects.toThrow(/sso/);
    expect(sim.counters().total).toBe(0);
  });

  it('disables and enables a user, idempotently', async () => {
    const { sim, dir } = await setup();
    const p = provisionerFor(sim, dir);
    const id = sim.groundTruth().users.find((u) => u.active)!.id;
    expect((await p.disableUser(id)).outcome).toBe('disabled');
    expect(sim.groundTruth().users.find((u) => u.id === id)?.active).toBe(false);
    const writes = writeCount(sim);
    expect((await p.disableUser(id)).outcome).toBe('already-disabled');
    expect(writeCount(sim)).toBe(writes);
    expect((await p.enableUser(String(id))).outcome).toBe('enabled');
    expect(sim.groundTruth().users.find((u) => u.id === id)?.active).toBe(true);
  });

  it('enabling or disabling an unknown user is UnknownUserError, with no write', async () => {
    const { sim, dir } = await setup();
    const p = provisionerFor(sim, dir);
    const missing = Math.max(...sim.groundTruth().users.map((u) => u.id)) + 1000;
    await expect(p.disableUser(missing)).rejects.toThrow(UnknownUserError);
    await expect(p.enableUser(String(missing))).rejects.toThrow(UnknownUserError);
    expect(writeCount(sim)).toBe(0);
  });
});

describe('journal and recover', () => {
  it('exits 5 naming the user and the list to restore when the rest cannot be put back', async () => {
    const { sim, dir } = await setup({ arrayMode: 'merge' });
    arrange(sim, 8, 'content_group', [1, 2, 3]);
    const names = new Map(sim.groundTruth().contentGroups.map((g) => [g.id, g.name]));
    const p = provisionerFor(sim, dir, { arrayModes: new ArrayModeMemory() });
    // Request 1 GET, 2 the detecting PUT, 3 the clear; from 4 on every PUT fails.
    const stopFaults = sim.faults.add({
      match: { method: 'PUT' },
      afterRequests: 2,
      kind: 'status',
      status: 503,
    });
    const err = await p.revoke('content_group:2:member', 8).catch((e: unknown) => e);
    stopFaults();
    expect(err).toBeInstanceOf(NeedsRecoveryError);
    const e = err as NeedsRecoveryError;
    expect(e.exitCode).toBe(ExitCode.needsRecovery);
    expect(e.message).toContain('user 8');
    expect(e.message).toContain(`1 (${names.get(1)}), 3 (${names.get(3)})`);
    expect(e.hint).toContain(`coupa-connector recover -p --journal ${join(dir, 'journal.jsonl')}`);
    // The user is really missing access now, and the journal knows what to restore.
    expect(holdings(sim, 8, 'content_group')).toEqual([]);
    const pending = new Journal(join(dir, 'journal.jsonl')).scan(sim.url).unfinished;
    expect(pending).toHaveLength(1);
    expect(pending[0]).toMatchObject({
      userId: 8,
      field: 'content-groups',
      intended: [{ id: 1 }, { id: 3 }],
      removed: [{ id: 2 }],
    });

    const report = await p.recover();
    expect(report.entries.map((x) => x.outcome)).toEqual(['restored']);
    expect(holdings(sim, 8, 'content_group')).toEqual([1, 3]);
    expect(new Journal(join(dir, 'journal.jsonl')).scan(sim.url).unfinished).toHaveLength(0);
    expect((await p.recover()).entries).toHaveLength(0);
  });

  it('recovers an entry left by a crash, keeping grants made since and leaving other tenants alone', async () => {
    const { sim, dir } = await setup({ arrayMode: 'merge' });
    const journal = new Journal(join(dir, 'journal.jsonl'));
    // As if the process died right after clearing roles [2,3,4] to revoke 3.
    journal.begin({
      baseUrl: sim.url,
      userId: 9,
      operation: 'revoke',
      entitlementId: 'role:3:member',
      field: 'roles',
      intended: [{ id: 2 }, { id: 4 }],
      removed: [{ id: 3 }],
    });
    journal.begin({
      baseUrl: 'https://other.coupahost.com',
      userId: 9,
      operation: 'revoke',
      entitlementId: 'role:3:member',
      field: 'roles',
      intended: [{ id: 2 }],
      removed: [{ id: 3 }],
    });
    arrange(sim, 9, 'role', [5]); // cleared, then someone granted role 5
    const report = await provisionerFor(sim, dir).recover();
    expect(report.otherTenants).toBe(1);
    expect(report.entries.map((x) => [x.userId, x.outcome])).toEqual([[9, 'restored']]);
    expect(holdings(sim, 9, 'role')).toEqual([2, 4, 5]);
  });

  it('finishes the removal on recover when the crash came before the clear', async () => {
    const { sim, dir } = await setup({ arrayMode: 'merge' });
    const journal = new Journal(join(dir, 'journal.jsonl'));
    journal.begin({
      baseUrl: sim.url,
      userId: 10,
      operation: 'revoke',
      entitlementId: 'account_group:3:member',
      field: 'account-groups',
      intended: [{ id: 1 }, { id: 2 }],
      removed: [{ id: 3 }],
    });
    arrange(sim, 10, 'account_group', [1, 2, 3]);
    const report = await provisionerFor(sim, dir).recover();
    expect(report.entries[0]?.outcome).toBe('restored');
    expect(holdings(sim, 10, 'account_group')).toEqual([1, 2]);
  });

  it('refuses to start when the journal cannot be written, before changing anything', async () => {
    const { sim, dir } = await setup();
    writeFileSync(join(dir, 'a-file'), '');
    const journalPath = join(dir, 'a-file', 'journal.jsonl'); // a folder that is a file: ENOTDIR
    expect(() => provisionerFor(sim, dir, { journalPath })).toThrow(/Cannot write the provisioning journal/);
    expect(writeCount(sim)).toBe(0);
  });
});

describe('scopes', () => {
  it('provisions account groups with the user write scope alone (no core.accounting.read)', async () => {
    const { sim, dir } = await setup({ arrayMode: 'merge' });
    const client = testClient(sim, { accounting: false, write: true });
    arrange(sim, 12, 'account_group', [1, 2]);
    const p = provisionerFor(sim, dir, { client });
    await p.grant('account_group:3:member', 12);
    await p.revoke('account_group:1:member', 12);
    expect(holdings(sim, 12, 'account_group')).toEqual([2, 3]);
    // The existence check is refused (403) but Coupa's 400 wording still identifies the unknown group.
    const err = await p.grant('account_group:99:member', 12).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnknownEntitlementError);
    expect((err as Error).message).toMatch(/no account group 99 \(.*Unable to find valid/);
    expect(sim.counters().byRouteStatus['GET /api/account_groups/:id']).toEqual({ '403': 1 });
  });
});

describe('token expiry mid-operation', () => {
  it('renews the token and finishes', async () => {
    const { sim, dir } = await setup({ arrayMode: 'merge' });
    arrange(sim, 11, 'role', [2, 3, 4]);
    const client = testClient(sim, PROVISIONING_CLIENT);
    const p = provisionerFor(sim, dir, { client });
    await p.grant('role:5:member', 11);
    sim.expireTokens();
    await p.revoke('role:3:member', 11);
    expect(holdings(sim, 11, 'role')).toEqual([2, 4, 5]);
    expect(client.stats().tokenRequests).toBe(2);
  });
});
