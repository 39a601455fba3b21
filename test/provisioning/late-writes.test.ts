import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Simulator } from '../../src/simulator/index.js';
import { ExitCode } from '../../src/errors.js';
import { sleep } from '../../src/util/sleep.js';
import {
  ArrayModeMemory,
  defaultSettleWindowMs,
  Journal,
  NeedsRecoveryError,
  type Provisioner,
} from '../../src/connector/provisioning/index.js';
import { arrange, holdings, provisionerFor, PROVISIONING_CLIENT, TENANT } from './helpers.js';
import { testClient } from '../helpers/client.js';
import { cli, simulatorFlags } from '../helpers/cli.js';
import { testSimulatorWithDir } from '../helpers/simulator.js';

/**
 * A write whose answer was lost (here: the simulator holds the PUT for DELAY_MS, past the client's
 * TIMEOUT_MS, then applies it anyway) is retried, the retry succeeds, and the abandoned attempt
 * lands later. Every test lets it land (waits DELAY_MS after the commands returned) and then
 * checks the tenant: what was granted or revoked last must be what the user holds, and the
 * commands must not have reported success for a state a late write then changed.
 */
const TIMEOUT_MS = 200;
const DELAY_MS = 600;
/** Longer than DELAY_MS: the late write lands inside the window, where it can be seen. */
const WINDOW_MS = 1_000;

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup) await c();
  cleanup = [];
});

async function setup(
  arrayMode: 'merge' | 'replace',
): Promise<{ sim: Simulator; dir: string; p: Provisioner }> {
  const t = await testSimulatorWithDir({ tenant: TENANT, arrayMode });
  cleanup.push(t.stop);
  const p = provisionerFor(t.sim, t.dir, {
    client: testClient(t.sim, PROVISIONING_CLIENT, { timeoutMs: TIMEOUT_MS }),
    retry: { delayMs: 5, settleMs: WINDOW_MS },
  });
  return { ...t, p };
}

/** The first PUT on the user from now on is applied DELAY_MS late, after the client gave up on it. */
function delayFirstPut(sim: Simulator, user: number, ms = DELAY_MS): void {
  sim.faults.add({
    match: { method: 'PUT', path: `/api/users/${user}` },
    onRequests: [1],
    kind: 'delay',
    ms,
  });
}

function unfinished(sim: Simulator, dir: string) {
  return new Journal(join(dir, 'journal.jsonl')).scan(sim.url).unfinished;
}

describe('a write whose answer was lost cannot land after the command reported success', () => {
  it('merge tenant, through the CLI: a late clear does not empty the list after "Revoked" (exit 0)', async () => {
    const t = await testSimulatorWithDir({ tenant: TENANT, arrayMode: 'merge' });
    cleanup.push(t.stop);
    const { sim, dir } = t;
    const user = 3;
    const revoke = (role: number, extra: string[] = [], env: Record<string, string> = {}) =>
      cli(
        [
          'revoke',
          `role:${role}:member`,
          String(user),
          '-p',
          ...simulatorFlags(sim),
          '--journal',
          join(dir, 'journal.jsonl'),
          '--audit-log',
          join(dir, 'audit.jsonl'),
          '--log-level',
          'error',
          ...extra,
        ],
        { cwd: dir, env },
      );
    arrange(sim, user, 'role', [2, 3, 4]);
    // The first revoke teaches the CLI (array-modes.json) that the tenant merges: the next one
    // starts with the journaled clear, which is the PUT the fault holds back.
    expect((await revoke(2)).code).toBe(0);
    expect(holdings(sim, user, 'role')).toEqual([3, 4]);

    // Later than the CLI's own retry (up to 250 ms of backoff) plus the put-back, whatever the jitter.
    const late = 1_500;
    delayFirstPut(sim, user, late);
    const run = await revoke(4, ['--request-timeout', `${TIMEOUT_MS}ms`], { BATON_SETTLE_WINDOW: '3s' });
    await sleep(late);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Revoked role 4 from user 3.');
    expect(holdings(sim, user, 'role')).toEqual([3]);
    expect(unfinished(sim, dir)).toEqual([]);
  }, 30_000);

  it('replace tenant: a grant whose answer was lost does not re-add the role a later revoke took off', async () => {
    const { sim, p } = await setup('replace');
    const user = 4;
    arrange(sim, user, 'role', [2]);
    delayFirstPut(sim, user);
    expect((await p.grant('role:3:member', user)).outcome).toBe('granted');
    expect((await p.revoke('role:3:member', user)).outcome).toBe('revoked');
    await sleep(DELAY_MS);
    expect(holdings(sim, user, 'role')).toEqual([2]);
  });

  it('replace tenant: a revoke whose answer was lost does not drop the role a later grant added', async () => {
    const { sim, p } = await setup('replace');
    const user = 5;
    arrange(sim, user, 'role', [2, 3]);
    delayFirstPut(sim, user);
    expect((await p.revoke('role:3:member', user)).outcome).toBe('revoked');
    expect((await p.grant('role:4:member', user)).outcome).toBe('granted');
    await sleep(DELAY_MS);
    expect(holdings(sim, user, 'role')).toEqual([2, 4]);
  });

  it('licenses and enable/disable: a late grant or enable does not undo the revoke or disable after it', async () => {
    const { sim, p } = await setup('replace');
    const user = 6;
    arrange(sim, user, 'license', []);
    delayFirstPut(sim, user);
    await p.grant('license:expense-user:assigned', user);
    await p.revoke('license:expense-user:assigned', user);
    await sleep(DELAY_MS);
    expect(holdings(sim, user, 'license')).toEqual([]);

    await p.disableUser(user);
    delayFirstPut(sim, user);
    await p.enableUser(user);
    await p.disableUser(user);
    await sleep(DELAY_MS);
    expect(sim.groundTruth().users.find((u) => u.id === user)?.active).toBe(false);
  });

  it('reads the user again after the window and writes again when the list is not what was asked', async () => {
    const { sim, p } = await setup('replace');
    const user = 7;
    arrange(sim, user, 'role', [2]);
    delayFirstPut(sim, user);
    // The read after the window (GET 3: before, read-back, check) finds the role gone, as if an
    // admin had removed it meanwhile; the grant puts it back rather than report what is not so.
    sim.faults.add({
      match: { method: 'GET', path: `/api/users/${user}` },
      onRequests: [3],
      kind: 'transform',
      transform: (body) => {
        arrange(sim, user, 'role', [2]);
        const b = body as { roles?: { id: number }[] };
        return { ...b, roles: (b.roles ?? []).filter((r) => r.id === 2) };
      },
    });
    sim.resetCounters();
    expect((await p.grant('role:3:member', user)).outcome).toBe('granted');
    await sleep(DELAY_MS);
    expect(holdings(sim, user, 'role')).toEqual([2, 3]);
    // The abandoned attempt, its retry, and the write after the check.
    expect(sim.counters().byRoute['PUT /api/users/:id']).toBe(3);
  });

  it('exits 5 with the journal entry open when the list cannot be confirmed, and recover finishes it', async () => {
    const t = await testSimulatorWithDir({ tenant: TENANT, arrayMode: 'replace' });
    cleanup.push(t.stop);
    const { sim, dir } = t;
    const late = 1_500;
    const p = provisionerFor(sim, dir, {
      // No retries: the write fails; the window is shorter than the write takes to land.
      client: testClient(sim, PROVISIONING_CLIENT, { timeoutMs: TIMEOUT_MS, retry: { limit: 0 } }),
      retry: { delayMs: 5, settleMs: 300 },
      arrayModes: new ArrayModeMemory(),
    });
    const user = 8;
    arrange(sim, user, 'role', [2]);
    delayFirstPut(sim, user, late);
    const err = await p.grant('role:3:member', user).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NeedsRecoveryError);
    expect((err as NeedsRecoveryError).exitCode).toBe(ExitCode.needsRecovery);
    expect((err as NeedsRecoveryError).message).toMatch(/The list to restore is: 2 \(.+\), 3\./);
    expect(unfinished(sim, dir)).toMatchObject([
      { userId: user, operation: 'grant', field: 'roles', intended: [{ id: 2 }, { id: 3 }], removed: [] },
    ]);
    await sleep(late);
    const report = await p.recover();
    expect(report.entries.map((e) => e.outcome)).toEqual(['consistent']);
    expect(holdings(sim, user, 'role')).toEqual([2, 3]);
    expect(unfinished(sim, dir)).toEqual([]);
  });
});

it('defaults the settle window to twice the request timeout, and never under 10 s', () => {
  expect(defaultSettleWindowMs(30_000)).toBe(60_000);
  expect(defaultSettleWindowMs(200)).toBe(10_000);
});
