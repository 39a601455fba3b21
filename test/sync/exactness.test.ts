import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import type { Simulator, SimulatorOptions } from '../../src/simulator/index.js';
import { syncToC1z, type SyncSummary } from '../../src/connector/sync.js';
import {
  clientFor,
  expectedContents,
  fastSimulator,
  floorOf,
  topDownPages,
  readFile,
  tempDir,
  type FileContents,
} from './helpers.js';
import { UserTrait_AccountType, UserTrait_Status_Status } from '../../src/c1z/messages.js';

/**
 * The acceptance test of the sync: the c1z read back holds exactly the simulator's ground truth
 * (every resource and every grant, no more, no less), and the sync costs the floor number of
 * requests, read from the simulator's own counters.
 */
function checkExact(sim: Simulator, file: FileContents, summary: SyncSummary) {
  const gt = sim.groundTruth();
  const expected = expectedContents(gt, { accountGroups: true });

  expect(file.resourceTypes).toEqual(
    new Set(['user', 'group', 'role', 'license', 'content_group', 'account_group']),
  );
  expect(file.resources).toEqual(expected.resources);
  expect(file.entitlements).toEqual(expected.entitlements);
  expect(file.grantTuples).toEqual(expected.grantTuples);
  expect(file.grantIds).toEqual(expected.grantIds);
  // No duplicate rows hiding behind the sets.
  expect(file.grantRows).toBe(expected.grantIds.size);
  expect(file.dangling).toEqual([]);

  // Names and user state, against the simulator's own records.
  for (const g of gt.userGroups) expect(file.displayNames.get(`group:${g.id}`)).toBe(g.name);
  for (const r of gt.roles) expect(file.displayNames.get(`role:${r.id}`)).toBe(r.name);
  for (const c of gt.contentGroups) expect(file.displayNames.get(`content_group:${c.id}`)).toBe(c.name);
  for (const a of gt.accountGroups) expect(file.displayNames.get(`account_group:${a.id}`)).toBe(a.name);
  let apiUsers = 0;
  for (const u of gt.users) {
    expect(file.displayNames.get(`user:${u.id}`)).toBe(u.fullname || u.login);
    const trait = file.userTraits.get(String(u.id));
    expect(trait?.login).toBe(u.login);
    expect(trait?.status?.status).toBe(
      u.active ? UserTrait_Status_Status.ENABLED : UserTrait_Status_Status.DISABLED,
    );
    expect(trait?.accountType).toBe(u.apiUser ? UserTrait_AccountType.SERVICE : UserTrait_AccountType.HUMAN);
    if (u.apiUser) apiUsers++;
  }
  // The generated tenants have API users, so "kept as SERVICE with their grants" was exercised.
  expect(apiUsers).toBeGreaterThan(0);
  const apiUserIds = new Set(gt.users.filter((u) => u.apiUser).map((u) => String(u.id)));
  const apiUserGrants = [...file.grantTuples].filter((t) => apiUserIds.has(t.slice(t.lastIndexOf(':') + 1)));
  expect(apiUserGrants.length).toBeGreaterThan(0);

  // The summary agrees with the file.
  expect(summary.grants).toBe(expected.grantIds.size);
  expect(summary.resources.user).toBe(gt.users.length);
  expect(summary.accountGroupsSkipped).toBe(false);
}

/** The small lists, each one walk from the top down to id 1 (dense ids in the simulator). */
function listPages(gt: ReturnType<Simulator['groundTruth']>): number {
  return (
    topDownPages(gt.userGroups.length) +
    topDownPages(gt.roles.length) +
    topDownPages(gt.contentGroups.length) +
    topDownPages(gt.accountGroups.length)
  );
}

/**
 * The users' lane walk over a dense tenant (ids 1..U): the probe (ranks 51..100 from the top),
 * bounded lanes below it and the top page read last make ceil(U/50) pages in all. A tenant of 50
 * users or fewer costs the empty probe and the top page.
 */
function userPages(users: number): number {
  return users <= 50 ? 2 : Math.ceil(users / 50);
}

/** The request floor of a tenant, from the test's own formula (floorOf), not from src. */
function floorFor(gt: ReturnType<Simulator['groundTruth']>): number {
  return floorOf({
    users: gt.users.length,
    userGroups: gt.userGroups.length,
    roles: gt.roles.length,
    contentGroups: gt.contentGroups.length,
    accountGroups: gt.accountGroups.length,
  });
}

/**
 * Inside a describe: a fast simulator with `tenant`, synced once before its tests with the counters
 * reset first, so they count the sync alone; closed and cleaned up after them.
 */
function syncedOnce(tenant: SimulatorOptions['tenant']): {
  sim: Simulator;
  summary: SyncSummary;
  file: FileContents;
} {
  const run = {} as { sim: Simulator; summary: SyncSummary; file: FileContents };
  const tmp = tempDir();
  beforeAll(async () => {
    run.sim = await fastSimulator({ tenant });
    run.sim.resetCounters();
    run.summary = await syncToC1z({ client: clientFor(run.sim), outPath: join(tmp.dir, 'out.c1z') });
    run.file = await readFile(run.summary.path);
  });
  afterAll(async () => {
    await run.sim.close();
    tmp.cleanup();
  });
  return run;
}

describe('sync of a 1k-user tenant', () => {
  const run = syncedOnce({ seed: 11, users: 1000 });

  it('holds exactly the ground truth', () => {
    checkExact(run.sim, run.file, run.summary);
  });

  it('makes exactly the floor number of requests', () => {
    const gt = run.sim.groundTruth();
    const counters = run.sim.counters();
    // 1,000 users is a multiple of 50: no page of the users' walk is short, so only reading the top
    // last (it touches the probe's largest id) tells the walk is complete without an extra page.
    expect(gt.users.length % 50).toBe(0);
    expect(counters.total).toBe(1 + listPages(gt) + userPages(gt.users.length));
    expect(counters.byRoute['GET /api/users']).toBe(gt.users.length / 50);
    expect(counters.byRoute['POST /oauth2/token']).toBe(1);
    expect(counters.total).toBe(floorFor(gt));
    expect(run.summary.requests).toBe(counters.total);
  });
});

describe('sync of a 10k-user tenant', () => {
  // Lists longer than one page, two of them a multiple of 50 long.
  const run = syncedOnce({
    seed: 23,
    users: 10_000,
    userGroups: 100,
    roles: 60,
    contentGroups: 55,
    accountGroups: 50,
  });

  it('holds exactly the ground truth', () => {
    checkExact(run.sim, run.file, run.summary);
  });

  it('makes exactly the floor number of requests, lists of 50 and 100 included', () => {
    const gt = run.sim.groundTruth();
    const counters = run.sim.counters();
    expect([gt.accountGroups.length, gt.userGroups.length]).toEqual([50, 100]);
    expect(counters.total).toBe(1 + listPages(gt) + userPages(gt.users.length));
    expect(counters.byRoute['GET /api/users']).toBe(Math.ceil(gt.users.length / 50));
    expect(counters.byRoute['GET /api/account_groups']).toBe(1);
    expect(counters.byRoute['GET /api/user_groups']).toBe(2);
    expect(counters.total).toBe(floorFor(gt));
    expect(run.summary.requests).toBe(counters.total);
  });

  it('stays within 2% of the request floor', () => {
    const gt = run.sim.groundTruth();
    const floor = floorFor(gt);
    const total = run.sim.counters().total;
    expect(total).toBeGreaterThanOrEqual(floor);
    expect(total).toBeLessThanOrEqual(1.02 * floor);
    expect(run.sim.counters().byRoute['POST /oauth2/token']).toBe(1);
  });
});
