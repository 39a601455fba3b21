import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Journal } from '../../src/connector/provisioning/index.js';
import { stateRoot, tenantStatePaths } from '../../src/connector/provisioning/state-dir.js';
import { cli } from '../helpers/cli.js';
import {
  arrange,
  entitlementIdFor,
  existingIds,
  holdings,
  provisionerFor,
  TENANT,
} from '../provisioning/helpers.js';
import { testSimulatorWithDir } from '../helpers/simulator.js';

/**
 * Issue 14, faults 5 and the unfinished-entry gap: provisioning processes started from different
 * working directories share one journal, audit log and lock folder per tenant (in the XDG state
 * dir; the test setup points XDG_STATE_HOME at a private folder), and a change on a user with an
 * unfinished journal entry finishes that entry first.
 */
let stop: (() => Promise<void>) | undefined;
afterEach(async () => {
  await stop?.();
  stop = undefined;
});

describe('provisioning state across working directories', () => {
  it('two CLI runs from different folders write one audit log and journal in the tenant state folder, 0600', async () => {
    const t = await testSimulatorWithDir({ tenant: TENANT, arrayMode: 'replace' });
    stop = t.stop;
    const [role] = existingIds(t.sim, 'role');
    const env = {
      BATON_BASE_URL: t.sim.url,
      BATON_COUPA_CLIENT_ID: t.sim.clientId,
      BATON_COUPA_CLIENT_SECRET: t.sim.clientSecret,
    };
    const users = t.sim.groundTruth().users.map((u) => u.id);
    for (const [i, name] of ['a', 'b'].entries()) {
      const cwd = join(t.dir, name);
      mkdirSync(cwd);
      arrange(t.sim, users[i]!, 'role', []);
      const run = await cli(['grant', entitlementIdFor('role', role!), String(users[i]), '-p'], { env, cwd });
      expect(run.code, run.stderr).toBe(0);
      expect(readdirSync(cwd)).toEqual([]);
    }
    const state = tenantStatePaths(t.sim.url, stateRoot(undefined, process.env));
    const lines = readFileSync(state.auditLog, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(statSync(state.auditLog).mode & 0o777).toBe(0o600);
    expect(statSync(state.journal).mode & 0o777).toBe(0o600);
    expect(statSync(state.dir).mode & 0o777).toBe(0o700);
    expect(existsSync(state.locks)).toBe(true);
  });

  it('a process in another folder waits on the same user lock (--lock-timeout 0 fails, exit 1)', async () => {
    // Slow enough that the first process still holds the lock when the second one gets there.
    const t = await testSimulatorWithDir({ tenant: TENANT, arrayMode: 'replace', latencyMs: 1500 });
    stop = t.stop;
    const [role] = existingIds(t.sim, 'role');
    const user = t.sim.groundTruth().users[0]!.id;
    arrange(t.sim, user, 'role', []);
    const env = {
      BATON_BASE_URL: t.sim.url,
      BATON_COUPA_CLIENT_ID: t.sim.clientId,
      BATON_COUPA_CLIENT_SECRET: t.sim.clientSecret,
    };
    const [a, b] = ['a', 'b'].map((n) => join(t.dir, n));
    mkdirSync(a!);
    mkdirSync(b!);
    const state = tenantStatePaths(t.sim.url, stateRoot(undefined, process.env));
    const first = cli(['grant', entitlementIdFor('role', role!), String(user), '-p'], { env, cwd: a });
    // Wait until the first process holds the user's lock in the shared folder.
    for (let i = 0; i < 200; i++) {
      if (existsSync(state.locks) && readdirSync(state.locks).some((f) => f.includes(String(user)))) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    const second = await cli(
      ['revoke', entitlementIdFor('role', role!), String(user), '-p', '--lock-timeout', '0'],
      { env, cwd: b },
    );
    expect(second.code, second.stderr).toBe(1);
    expect(second.stderr).toMatch(/Another coupa-connector process is changing user/);
    expect((await first).code).toBe(0);
    expect(holdings(t.sim, user, 'role')).toEqual([role]);
  });
});

describe('an unfinished journal entry on the user', () => {
  it('a later grant finishes it first: the user ends with the intended list plus the grant', async () => {
    const t = await testSimulatorWithDir({ tenant: TENANT, arrayMode: 'merge' });
    stop = t.stop;
    const [r1, r2, r3] = existingIds(t.sim, 'role');
    const user = t.sim.groundTruth().users[0]!.id;
    const p = provisionerFor(t.sim, t.dir);
    // A revoke of r2 killed after clearing the list: the journal says [r1], the user holds nothing.
    const journal = new Journal(p.journalPath);
    journal.begin({
      baseUrl: t.sim.url.replace(/\/+$/, ''),
      userId: user,
      operation: 'revoke',
      entitlementId: entitlementIdFor('role', r2!),
      field: 'roles',
      intended: [{ id: r1!, name: null }],
      removed: [{ id: r2!, name: null }],
    });
    arrange(t.sim, user, 'role', []);
    expect(journal.scan().unfinished).toHaveLength(1);

    const result = await p.grant(entitlementIdFor('role', r3!), user);
    expect(result.outcome).toBe('granted');
    expect(holdings(t.sim, user, 'role')).toEqual([r1, r3].sort((x, y) => x! - y!));
    expect(journal.scan().unfinished).toHaveLength(0);
  });
});
