import { afterEach, describe, expect, it } from 'vitest';
import {
  generateTenant,
  layoutIds,
  Latency,
  parseDrift,
  parseIdLayout,
  parseLatency,
  SPARSE_LAYOUT,
  type Simulator,
} from '../../src/simulator/index.js';
import { groundTruth } from '../../src/simulator/ground-truth.js';
import { testSimulator, simulatorToken } from '../helpers/simulator.js';

const durations = (v: string) => {
  const m = /^(\d+(?:\.\d+)?)(ms|s)$/.exec(v);
  if (!m) throw new Error(`bad duration ${v}`);
  return Number(m[1]) * (m[2] === 's' ? 1000 : 1);
};

describe('id layouts', () => {
  it('dense is what the generator always made: ids 1..n, the same tenant record for record', () => {
    const before = groundTruth(generateTenant({ seed: 5, users: 300 }));
    const dense = groundTruth(generateTenant({ seed: 5, users: 300, ids: 'dense' }));
    expect(dense).toEqual(before);
    expect(dense.users.map((u) => u.id)).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
  });

  it('sparse: starts far from 1, leaves gaps and long runs of holes, and ends with a few very large ids', () => {
    const ids = layoutIds(SPARSE_LAYOUT, 20_000, 42);
    expect(ids[0]).toBeGreaterThanOrEqual(10_000);
    for (let i = 1; i < ids.length; i++) expect(ids[i]).toBeGreaterThan(ids[i - 1]!);
    const gaps = ids.slice(1).map((id, i) => id - ids[i]!);
    // About 3 of every 5 ids are missing (geometric gaps, mean 2.5)…
    const ordinary = gaps.slice(0, -4).filter((g) => g < 2000);
    const mean = ordinary.reduce((a, b) => a + b, 0) / ordinary.length;
    expect(mean).toBeGreaterThan(2.2);
    expect(mean).toBeLessThan(2.8);
    expect(ordinary.filter((g) => g === 1).length).toBeGreaterThan(ordinary.length * 0.3);
    // …some runs of thousands of holes…
    expect(gaps.filter((g) => g >= 2000 && g <= 40_001 + 50).length).toBeGreaterThan(10);
    // …and the three highest are very large, still exact integers with room above them.
    const top = ids.slice(-3);
    for (const id of top) {
      expect(id).toBeGreaterThanOrEqual(2 ** 40);
      expect(id).toBeLessThanOrEqual(2 ** 52);
      expect(Number.isSafeInteger(id + 1_000_000)).toBe(true);
    }
    expect(ids[ids.length - 4]).toBeLessThan(2 ** 40);
    // Deterministic.
    expect(layoutIds(SPARSE_LAYOUT, 20_000, 42)).toEqual(ids);
  });

  it('a sparse tenant: every list sparse, built-in roles kept at 1..4, memberships point at real records', () => {
    const tenant = generateTenant({ seed: 9, users: 2000, userGroups: 150, roles: 30, ids: 'sparse' });
    const gt = groundTruth(tenant);
    expect(gt.users).toHaveLength(2000);
    expect(gt.users[0]!.id).toBeGreaterThanOrEqual(10_000);
    expect(gt.users.at(-1)!.id).toBeGreaterThan(2 ** 40);
    expect(gt.userGroups[0]!.id).toBeGreaterThanOrEqual(10_000);
    expect(gt.userGroups.at(-1)!.id).toBeGreaterThan(2 ** 40);
    expect(gt.roles.slice(0, 4).map((r) => [r.id, r.name])).toEqual([
      [1, 'Approver'],
      [2, 'Admin'],
      [3, 'User'],
      [4, 'Buyer'],
    ]);
    expect(gt.roles[4]!.id).toBeGreaterThanOrEqual(10_000);
    const has = (list: Array<{ id: number }>) => new Set(list.map((r) => r.id));
    const users = has(gt.users);
    const groups = has(gt.userGroups);
    const roles = has(gt.roles);
    expect(gt.memberships.userGroups.length).toBeGreaterThan(1000);
    for (const [u, g] of gt.memberships.userGroups) expect(users.has(u) && groups.has(g)).toBe(true);
    for (const [u, r] of gt.memberships.roles) expect(users.has(u) && roles.has(r)).toBe(true);
    // Custom roles are held too, under their sparse ids.
    expect(gt.memberships.roles.some(([, r]) => r >= 10_000)).toBe(true);
    // Managers are users of the tenant.
    for (const u of tenant.users.list) if (u.managerId !== null) expect(users.has(u.managerId)).toBe(true);
    // A user created now gets an id above every generated one, as in Coupa.
    const created = tenant.createUser({
      login: 'new.one',
      email: 'n@example.com',
      firstname: 'N',
      lastname: 'O',
    });
    expect(created.id).toBeGreaterThan(gt.users.at(-1)!.id);
  });

  it('parses the CLI forms and refuses nonsense', () => {
    expect(parseIdLayout('dense')).toBe('dense');
    expect(parseIdLayout('sparse')).toBe('sparse');
    expect(parseIdLayout('sparse:gap=4,large=0,start=7')).toMatchObject({
      start: 7,
      gap: { kind: 'geometric', mean: 4 },
      largeIds: 0,
    });
    expect(() => parseIdLayout('random')).toThrow(/unknown id layout/);
    expect(() => parseIdLayout('sparse:gap=0.5')).toThrow(/mean ≥ 1/);
    expect(() => parseIdLayout('sparse:colour=3')).toThrow(/unknown key/);
  });
});

describe('latency models', () => {
  const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.floor(q * xs.length)]!;

  it('lognormal: the median and p99 asked for', () => {
    const l = new Latency({ kind: 'lognormal', medianMs: 500, p99Ms: 1500, seed: 3 });
    const xs = Array.from({ length: 40_000 }, () => l.base());
    expect(quantile(xs, 0.5)).toBeGreaterThan(480);
    expect(quantile(xs, 0.5)).toBeLessThan(520);
    expect(quantile(xs, 0.99)).toBeGreaterThan(1400);
    expect(quantile(xs, 0.99)).toBeLessThan(1600);
    expect(Math.min(...xs)).toBeGreaterThan(0);
  });

  it('uniform stays in its bounds; fixed is fixed; a model can grow with records and references', () => {
    const u = new Latency({ kind: 'uniform', minMs: 300, maxMs: 3000 });
    const xs = Array.from({ length: 5000 }, () => u.base());
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(300);
    expect(Math.max(...xs)).toBeLessThanOrEqual(3000);
    expect(quantile(xs, 0.5)).toBeGreaterThan(1400);
    expect(Latency.from(120)!.base()).toBe(120);
    expect(Latency.from(0)).toBeUndefined();
    const g = new Latency({ kind: 'fixed', ms: 100, perRecordMs: 2, perReferenceMs: 0.5 });
    expect(g.extra([])).toBe(0);
    const page = Array.from({ length: 50 }, (_, i) => ({
      id: i,
      roles: [{ id: 1 }, { id: 2 }],
      'user-groups': [],
    }));
    expect(g.extra(page)).toBe(50 * 2 + 100 * 0.5);
  });

  it('parses the CLI forms', () => {
    expect(parseLatency('100ms', durations)).toBe(100);
    expect(parseLatency('uniform:300ms-3s', durations)).toEqual({ kind: 'uniform', minMs: 300, maxMs: 3000 });
    expect(parseLatency('lognormal:1s', durations)).toEqual({
      kind: 'lognormal',
      medianMs: 1000,
      p99Ms: 3000,
    });
    expect(parseLatency('lognormal:1s,p99=2s,per-record=2ms', durations)).toEqual({
      kind: 'lognormal',
      medianMs: 1000,
      p99Ms: 2000,
      perRecordMs: 2,
    });
    expect(() => parseLatency('lognormal:1s,p99=500ms', durations)).toThrow(/p99/);
    expect(() => parseLatency('gamma:1s', durations)).toThrow(/unknown kind/);
  });
});

describe('drift: the tenant changes while it is read, and the ground truth follows', () => {
  let sim: Simulator | undefined;
  afterEach(async () => {
    await sim?.close();
    sim = undefined;
  });

  it('creates and deactivates users and deletes groups and roles between users pages', async () => {
    sim = await testSimulator({
      rateLimit: false,
      tenant: { seed: 4, users: 400, userGroups: 30, roles: 20, ids: 'sparse' },
      drift: { every: 2, createUsers: 2, deactivateUsers: 1, deleteUserGroups: 1, deleteRoles: 1 },
    });
    const before = sim.groundTruth();
    const token = await simulatorToken(sim);
    for (let i = 0; i < 6; i++) {
      const res = await fetch(`${sim.url}/api/users?limit=50&offset=${i * 50}&fields=["id"]`, {
        headers: { accept: 'application/json', authorization: `Bearer ${token}` },
      });
      expect(res.status).toBe(200);
    }
    const log = sim.driftLog()!;
    expect(log.rounds).toBe(3);
    expect(log.created).toHaveLength(6);
    expect(log.deactivated).toHaveLength(3);
    expect(log.deletedUserGroups).toHaveLength(3);
    expect(log.deletedRoles).toHaveLength(3);
    const after = sim.groundTruth();
    expect(after.users).toHaveLength(before.users.length + 6);
    for (const id of log.created) expect(id).toBeGreaterThan(before.users.at(-1)!.id);
    for (const id of log.deactivated) expect(after.users.find((u) => u.id === id)?.active).toBe(false);
    const gone = new Set(log.deletedUserGroups);
    expect(after.userGroups.some((g) => gone.has(g.id))).toBe(false);
    expect(after.memberships.userGroups.some(([, g]) => gone.has(g))).toBe(false);
    const goneRoles = new Set(log.deletedRoles);
    expect(after.memberships.roles.some(([, r]) => goneRoles.has(r))).toBe(false);
    expect(after.roles.slice(0, 4).map((r) => r.id)).toEqual([1, 2, 3, 4]);
  });

  it('parses the CLI forms', () => {
    expect(parseDrift('off')).toBeUndefined();
    expect(parseDrift('on')).toMatchObject({ every: 5, createUsers: 2, deleteRoles: 1 });
    expect(parseDrift('every=3,create=5,path=/api/roles')).toEqual({
      every: 3,
      createUsers: 5,
      path: '/api/roles',
    });
    expect(() => parseDrift('every=-1')).toThrow(/key=n/);
    expect(() => parseDrift('explode=1')).toThrow(/unknown key/);
  });
});
