import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { startFakeC1 } from '../../src/simulator/c1/index.js';
import { tenantStatePaths } from '../../src/connector/provisioning/index.js';
import { cli, simulatorFlags } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp-dir.js';
import { testSimulator } from '../helpers/simulator.js';
import { arrange, holdings, readJsonLines } from '../provisioning/helpers.js';
import { startDaemon } from './daemon-helpers.js';

/**
 * Service mode keeps provisioning's journal, audit log and lock files where the one-shot commands
 * do: the tenant's folder under --state-dir (BATON_STATE_DIR, else the XDG state dir), never the
 * working directory. So `recover -p` finishes what a service task left half-done, and a CLI run
 * and the service wait for each other's locks on a user.
 */

const tmp = tempDir('c1-state-');
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
afterAll(() => tmp.cleanup());

describe('service mode state folder', () => {
  it('a revoke task cut off half-way is journaled in the --state-dir tenant folder, and `recover -p` there restores it', async () => {
    const fake = await startFakeC1({ tls: false, nextPollMs: 200 });
    cleanups.push(() => fake.close());
    // The simulator merges association arrays: a removal is a clear, then a put-back.
    const sim = await testSimulator({ tenant: { users: 20, seed: 3 } });
    cleanups.push(() => sim.close());
    const cwd = join(tmp.dir, 'cwd');
    const stateDir = join(tmp.dir, 'state');
    mkdirSync(cwd);
    const d = startDaemon({
      fake,
      sim,
      cwd,
      env: { BATON_C1_API_HOST: fake.url },
      args: ['-p', '--state-dir', stateDir, '--max-retries', '0'],
    });
    cleanups.push(() => d.stop('SIGKILL'));
    await fake.waitForHello({ timeoutMs: 30_000 });

    const user = sim.groundTruth().users.find((u) => !u.apiUser)!.id;
    const roles = sim
      .groundTruth()
      .roles.slice(0, 3)
      .map((r) => r.id);
    arrange(sim, user, 'role', roles);
    const [, revoked] = roles as [number, number, number];
    // PUT 1 finds out the tenant merges, PUT 2 clears the list, every later PUT (the put-back) fails.
    const stopFaults = sim.faults.add({
      match: { method: 'PUT' },
      afterRequests: 2,
      kind: 'status',
      status: 503,
    });
    const entitlement = {
      id: `role:${revoked}:member`,
      resource: { id: { resourceType: 'role', resource: String(revoked) } },
    };
    const principal = { id: { resourceType: 'user', resource: String(user) } };
    const task = fake.tasks.revoke({
      grant: { id: `role:${revoked}:member:user:${user}`, entitlement, principal },
    });
    const f = await fake.waitForFinish(task.id, { timeoutMs: 60_000 });
    stopFaults();
    expect(f).toMatchObject({ outcome: 'error', nonRetryable: true });
    expect(f.message).toMatch(/did not finish/);
    expect(holdings(sim, user, 'role')).toEqual([]);

    const paths = tenantStatePaths(sim.url, stateDir);
    expect(readJsonLines(paths.journal).length).toBeGreaterThan(0);
    expect(readJsonLines(paths.auditLog)).toContainEqual(
      expect.objectContaining({ userId: user, result: 'needs-recovery' }),
    );
    // Nothing in the working directory (before: .coupa-connector/journal.jsonl and friends).
    expect(readdirSync(cwd)).toEqual([]);

    // A one-shot run from another folder, with the same --state-dir, sees the service's journal.
    const recover = await cli(['recover', '-p', ...simulatorFlags(sim), '--state-dir', stateDir], {
      cwd: tmp.dir,
    });
    expect(recover.code, recover.stderr).toBe(0);
    expect(recover.stdout).toMatch(new RegExp(`restored\\s+user ${user} role:${revoked}:member`));
    expect(holdings(sim, user, 'role')).toEqual(roles.filter((r) => r !== revoked).sort((a, b) => a - b));
    expect(existsSync(join(cwd, '.coupa-connector'))).toBe(false);
    expect((await d.stop('SIGTERM')).code).toBe(0);
  }, 90_000);
});
