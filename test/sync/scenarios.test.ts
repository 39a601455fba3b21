import { afterEach, describe, expect, it } from 'vitest';
import { copyFileSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ALL_SCOPES, type Simulator } from '../../src/simulator/index.js';
import { syncToC1z } from '../../src/connector/sync.js';
import { MemorySink } from '../../src/connector/memory-sink.js';
import type { Resource } from '../../src/c1z/messages.js';
import { InterruptedError } from '../../src/errors.js';
import { CoupaUnavailableError, InvalidScopeError } from '../../src/coupa/errors.js';
import { capturingLogger, expectedContents, readFile } from './helpers.js';
import { testClient } from '../helpers/client.js';
import { testSimulator } from '../helpers/simulator.js';
import { tempDir } from '../helpers/temp-dir.js';
import { FIXTURE } from '../c1z/helpers.js';

const WITHOUT_ACCOUNTING = ALL_SCOPES.filter((s) => s !== 'core.accounting.read');

let sim: Simulator | undefined;
let tmp: ReturnType<typeof tempDir> | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
  tmp?.cleanup();
  tmp = undefined;
});

async function setup(opts: Parameters<typeof testSimulator>[0] = {}) {
  sim = await testSimulator({ tenant: { seed: 5, users: 300 }, ...opts });
  tmp = tempDir();
  return { sim, out: join(tmp.dir, 'out.c1z') };
}

describe('account groups without the core.accounting.read scope', () => {
  for (const status of [401, 403] as const) {
    it(`are skipped with a warning when the list answers ${status}, and the rest is synced exactly`, async () => {
      const { sim, out } = await setup({
        allowedScopes: WITHOUT_ACCOUNTING,
        scopeMismatch: 'intersect',
        missingScopeStatus: status,
      });
      const log = capturingLogger('warn');
      const summary = await syncToC1z({ client: testClient(sim), outPath: out, logger: log.logger });

      expect(summary.accountGroupsSkipped).toBe(true);
      const warnings = log.lines().filter((l) => l.level === 'warn');
      expect(warnings).toHaveLength(1);
      expect(String(warnings[0]!.msg)).toContain('core.accounting.read');

      const file = await readFile(out);
      const expected = expectedContents(sim.groundTruth(), { accountGroups: false });
      expect(file.resourceTypes.has('account_group')).toBe(false);
      expect(file.resources).toEqual(expected.resources);
      expect(file.grantIds).toEqual(expected.grantIds);
      expect(file.dangling).toEqual([]);
      // The refused list call is all it cost: once on a 403; on a 401, which cannot be told from a
      // revoked token, once per token renewal the client allows itself (at most two fresh tokens
      // refused in a row, so at most three calls).
      const refused = sim.counters().byRoute['GET /api/account_groups'];
      expect(refused).toBeGreaterThanOrEqual(status === 403 ? 1 : 2);
      expect(refused).toBeLessThanOrEqual(status === 403 ? 1 : 3);
    });
  }

  it('are skipped when Coupa refuses to issue a token with that scope (invalid_scope)', async () => {
    const { sim, out } = await setup({ allowedScopes: WITHOUT_ACCOUNTING, scopeMismatch: 'reject' });
    const log = capturingLogger('info');
    const client = testClient(sim, { accounting: 'optional', logger: log.logger });
    const summary = await syncToC1z({ client, outPath: out, logger: log.logger });
    expect(summary.accountGroupsSkipped).toBe(true);
    // One warning, from the sync, saying what to add; the client's scope fallback is an info line.
    const warnings = log.lines().filter((l) => l.level === 'warn');
    expect(warnings).toHaveLength(1);
    expect(String(warnings[0]!.msg)).toContain('core.accounting.read');
    expect(log.lines().some((l) => l.level === 'info' && l['refused'] === 'core.accounting.read')).toBe(true);
    const file = await readFile(out);
    expect(file.grantIds).toEqual(expectedContents(sim.groundTruth(), { accountGroups: false }).grantIds);
    // The refused token request, then one that works and is kept; the account groups' list is
    // refused once (403) and skipped.
    expect(sim.counters().byRoute['POST /oauth2/token']).toBe(2);
    expect(sim.counters().byRoute['GET /api/account_groups']).toBe(1);
  });

  it('a refused required scope is still an error (exit 3) naming the scopes', async () => {
    const { sim, out } = await setup({
      allowedScopes: WITHOUT_ACCOUNTING.filter((s) => s !== 'core.user.read'),
      scopeMismatch: 'reject',
    });
    const client = testClient(sim, { accounting: 'optional' });
    const err = await syncToC1z({ client, outPath: out }).then(
      () => undefined,
      (e: unknown) => e as InvalidScopeError,
    );
    expect(err).toBeInstanceOf(InvalidScopeError);
    expect(err!.exitCode).toBe(3);
    expect(err!.message).toContain('core.user.read');
    expect(existsSync(out)).toBe(false);
    // With the optional scope, then without it: both refused, no third try.
    expect(sim.counters().byRoute['POST /oauth2/token']).toBe(2);
  });

  it('are not even asked for with skipAccountGroups', async () => {
    const { sim, out } = await setup();
    const seenFields: string[] = [];
    sim.faults.add({
      match: { method: 'GET', path: '/api/users' },
      kind: 'transform',
      transform: (body, req) => {
        seenFields.push(req.query.get('fields') ?? '');
        return body;
      },
    });
    const summary = await syncToC1z({
      client: testClient(sim, { accounting: false }),
      outPath: out,
      skipAccountGroups: true,
    });
    expect(summary.accountGroupsSkipped).toBe(true);
    expect(sim.counters().byRoute['GET /api/account_groups']).toBeUndefined();
    const pages = seenFields.filter((f) => f.includes('login'));
    expect(pages.length).toBeGreaterThan(0);
    for (const f of pages) {
      expect(f).not.toContain('account-groups');
      expect(f).toContain('content-groups');
    }
  });
});

describe('licenses', () => {
  it("are the flags the tenant's users carry, not a fixed list", async () => {
    const { sim, out } = await setup({
      tenant: { seed: 5, users: 120, licenseFlags: ['purchasing-user', 'treasury-user', 'intake-user'] },
    });
    await syncToC1z({ client: testClient(sim), outPath: out });
    const file = await readFile(out);
    const licenses = [...file.resources].filter((r) => r.startsWith('license:')).sort();
    expect(licenses).toEqual(['license:intake-user', 'license:purchasing-user', 'license:treasury_user']);
    expect(file.grantIds).toEqual(expectedContents(sim.groundTruth(), { accountGroups: true }).grantIds);
  });
});

describe('records created while the sync runs', () => {
  it('land in the file: a new user with a new role, and a new group given to an existing user', async () => {
    const { sim, out } = await setup();
    // A user from the middle of the list: read by a page that goes out only once both ends of the
    // list are in, so after the change below whatever order the server answers in.
    const ids = sim
      .groundTruth()
      .users.map((u) => u.id)
      .sort((a, b) => a - b);
    const existingUser = ids[Math.floor(ids.length / 2)]!;
    let created: { userId: number; roleId: number; groupId: number } | undefined;
    // While the top page of the users is answered (the first users request), and the lists may be
    // read or not yet. The new user's id is above every other, so only the look above the top, sent
    // with the last pages, can read it.
    sim.faults.add({
      match: { method: 'GET', path: '/api/users' },
      kind: 'transform',
      transform: (body, req) => {
        if (created || req.query.get('dir') !== 'desc') return body;
        const role = sim.tenant.createRole('Created Mid-Sync');
        const group = sim.tenant.createUserGroup('Joined Mid-Sync');
        const user = sim.tenant.createUser({
          login: 'late.arrival',
          email: 'late.arrival@example.com',
          firstname: 'Late',
          lastname: 'Arrival',
          roles: [{ id: role.id }],
        });
        sim.tenant.updateUser(existingUser, { 'user-groups': [{ id: group.id }] }, { arrayMode: 'merge' });
        created = { userId: user.id, roleId: role.id, groupId: group.id };
        return body;
      },
    });
    const summary = await syncToC1z({ client: testClient(sim), outPath: out });
    expect(created).toBeDefined();
    const file = await readFile(out);
    expect(file.resources.has(`user:${created!.userId}`)).toBe(true);
    expect(file.grantIds.has(`role:${created!.roleId}:member:user:${created!.userId}`)).toBe(true);
    expect(file.displayNames.get(`role:${created!.roleId}`)).toBe('Created Mid-Sync');
    expect(file.grantIds.has(`group:${created!.groupId}:member:user:${existingUser}`)).toBe(true);
    expect(file.displayNames.get(`group:${created!.groupId}`)).toBe('Joined Mid-Sync');
    // Written from the users' references if their lists had been read before they were created (the
    // lists are read beside the users, so either can happen).
    expect(summary.lateArrivals).toBeLessThanOrEqual(2);
    // And the whole file still matches the (changed) tenant exactly.
    const expected = expectedContents(sim.groundTruth(), { accountGroups: true });
    expect(file.resources).toEqual(expected.resources);
    expect(file.grantIds).toEqual(expected.grantIds);
    expect(file.dangling).toEqual([]);
  });
});

describe('the end of a sync', () => {
  it('gets the file ready to finish once the last user pages are asked for, with users still to write', async () => {
    // 40 ms per answer: the last pages are still on their way when the walk has asked for them.
    const { sim } = await setup({ tenant: { seed: 5, users: 3000 }, latencyMs: 40 });
    const calls: string[] = [];
    let usersAfter = 0;
    const user = (r: Resource) => r.id?.resourceType === 'user';
    class Recording extends MemorySink {
      override putResource(r: Resource): void {
        if (calls.includes('prepareFinish') && user(r)) usersAfter++;
        super.putResource(r);
      }
      prepareFinish(): Promise<void> {
        calls.push('prepareFinish');
        return Promise.resolve();
      }
      override finish() {
        calls.push('finish');
        return super.finish();
      }
    }
    const sink = new Recording();
    const summary = await syncToC1z({ client: testClient(sim), sink });
    expect(summary.resources.user).toBe(3000);
    expect(sink.resources.filter(user)).toHaveLength(3000);
    expect(calls).toEqual(['prepareFinish', 'finish']);
    expect(usersAfter).toBeGreaterThan(0);
  });
});

describe('a sync that does not finish', () => {
  it('leaves the previous file byte-identical and no temp file when aborted', async () => {
    const { sim, out } = await setup({ latencyMs: 30 });
    copyFileSync(FIXTURE, out);
    const controller = new AbortController();
    const promise = syncToC1z({
      client: testClient(sim, { signal: controller.signal }),
      outPath: out,
      signal: controller.signal,
      onProgress: (p) => {
        if (p.usersSynced > 0) controller.abort('SIGINT');
      },
    });
    await expect(promise).rejects.toBeInstanceOf(InterruptedError);
    expect(readFileSync(out).equals(readFileSync(FIXTURE))).toBe(true);
    expect(readdirSync(tmp!.dir)).toEqual(['out.c1z']);
  });

  it('leaves the previous file untouched and throws a typed error when Coupa keeps failing', async () => {
    const { sim, out } = await setup();
    copyFileSync(FIXTURE, out);
    sim.faults.add({
      match: { method: 'GET', path: '/api/users' },
      afterRequests: 2,
      kind: 'status',
      status: 503,
    });
    const client = new (await import('../../src/coupa/index.js')).CoupaClient({
      baseUrl: sim.url,
      clientId: sim.clientId,
      clientSecret: sim.clientSecret,
      scopes: ['core.user.read', 'core.common.read', 'core.user_group.read', 'core.accounting.read'],
      rateLimit: false,
      retry: { limit: 1, baseDelayMs: 1, maxDelayMs: 2 },
    });
    await expect(syncToC1z({ client, outPath: out })).rejects.toBeInstanceOf(CoupaUnavailableError);
    expect(readFileSync(out).equals(readFileSync(FIXTURE))).toBe(true);
    expect(readdirSync(tmp!.dir)).toEqual(['out.c1z']);
  });

  it('creates no file at all when there was none before', async () => {
    const { sim, out } = await setup();
    sim.faults.add({ match: { method: 'GET', path: '/api/roles' }, kind: 'status', status: 404 });
    await expect(syncToC1z({ client: testClient(sim), outPath: out })).rejects.toThrow(/404/);
    expect(existsSync(out)).toBe(false);
  });
});
