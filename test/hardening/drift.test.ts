import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Simulator } from '../../src/simulator/index.js';
import { C1zReader } from '../../src/c1z/reader.js';
import { findAnnotation } from '../../src/c1z/any.js';
import { UserTrait_Status_Status, UserTraitSchema } from '../../src/c1z/messages.js';
import { decode, syncOnce, userIds } from './helpers.js';
import { testSimulator, simulatorToken } from '../helpers/simulator.js';
import { tempDir } from '../helpers/temp-dir.js';

/**
 * Issue 6 item 3: users created and deactivated while a sync pages through /api/users are neither
 * skipped nor duplicated. The simulator's tenant is changed from a `transform` hook, i.e. between
 * the pages the sync asks for, as another Coupa user would change it during a long sync.
 * The guarantee (docs/client.md, "Pagination"): every page covers the id interval it returned, the
 * walk ends when the id axis is covered, and a last read above the highest id seen at the start
 * picks up what was created meanwhile; plus deduplication by id. Run on dense and on sparse ids.
 */

const tmp = tempDir();
afterAll(() => tmp.cleanup());

let counter = 0;
function createUser(sim: Simulator): number {
  counter++;
  return sim.tenant.createUser({
    login: `drift.user.${counter}`,
    email: `drift.${counter}@example.com`,
    firstname: 'Drift',
    lastname: `User ${counter}`,
  }).id;
}

async function statusOf(path: string, id: number): Promise<UserTrait_Status_Status | undefined> {
  const reader = await C1zReader.open(path);
  try {
    const r = reader.getResource('user', String(id));
    return r ? findAnnotation(r.annotations, UserTraitSchema)?.status?.status : undefined;
  } finally {
    reader.close();
  }
}

interface Churn {
  /** Users created while a page was being answered, per users request (in order). */
  createdPerRequest: number[][];
  /** Users created while the small lists were read, before the walk over users began. */
  createdBeforeWalk: number[];
  /** Users deactivated before the walk began (their status must say so). */
  deactivatedBeforeWalk: number[];
  deactivatedDuringWalk: number[];
}

/** Creates 3 and deactivates 2 users on every users page, and some more while the lists are read. */
function churn(sim: Simulator): Churn {
  const c: Churn = {
    createdPerRequest: [],
    createdBeforeWalk: [],
    deactivatedBeforeWalk: [],
    deactivatedDuringWalk: [],
  };
  const activeIds = () => sim.tenant.users.list.filter((u) => u.active).map((u) => u.id);
  let pick = 0;
  const nextActive = () => {
    const ids = activeIds();
    pick = (pick + 37) % ids.length;
    return ids[pick]!;
  };
  sim.faults.add({
    match: { method: 'GET', path: '/api/roles' },
    kind: 'transform',
    transform: (body) => {
      c.createdBeforeWalk.push(createUser(sim), createUser(sim));
      const id = nextActive();
      sim.tenant.updateUser(id, { active: false });
      c.deactivatedBeforeWalk.push(id);
      return body;
    },
  });
  sim.faults.add({
    match: { method: 'GET', path: '/api/users' },
    kind: 'transform',
    transform: (body) => {
      c.createdPerRequest.push([createUser(sim), createUser(sim), createUser(sim)]);
      for (let i = 0; i < 2; i++) {
        const id = nextActive();
        sim.tenant.updateUser(id, { active: false });
        c.deactivatedDuringWalk.push(id);
      }
      return body;
    },
  });
  return c;
}

function expectNoDuplicates(d: Awaited<ReturnType<typeof decode>>): void {
  expect(d.rows.resources).toBe(d.resources.size);
  expect(d.rows.grants).toBe(d.grants.size);
  expect(d.rows.entitlements).toBe(d.entitlements.size);
}

describe('offset drift: users created and deactivated during a sync', () => {
  for (const ids of ['dense', 'sparse'] as const) {
    it(`${ids} ids: every user that existed throughout is there once; new ones at most once`, async () => {
      const sim = await testSimulator({ tenant: { seed: 64, users: 700, ids } });
      try {
        const initial = sim.tenant.users.list.map((u) => u.id);
        const c = churn(sim);
        const out = join(tmp.dir, `drift-${ids}.c1z`);
        await syncOnce(sim, out);
        const d = await decode(out);
        expectNoDuplicates(d);
        const got = new Set(userIds(d));
        // Nothing that existed for the whole sync is skipped, deactivated or not.
        const missing = initial.filter((id) => !got.has(id));
        expect(missing).toEqual([]);
        expect(c.deactivatedDuringWalk.length).toBeGreaterThan(20);
        // Users created before the walk over users began are always there.
        for (const id of c.createdBeforeWalk) expect(got.has(id), `user ${id}`).toBe(true);
        for (const id of c.deactivatedBeforeWalk) {
          expect(await statusOf(out, id), `user ${id}`).toBe(UserTrait_Status_Status.DISABLED);
        }
        expect(c.createdPerRequest.flat().length).toBeGreaterThan(30);
        // The look above the top is the last read to start: everything created before it was asked
        // for is above its cursor, so it is read; only what requests answered after it created
        // may be missed (at most the ones in flight with it).
        const createdDuring = c.createdPerRequest.flat();
        const missed = createdDuring.filter((id) => !got.has(id));
        expect(missed.length).toBeLessThanOrEqual(3 * 8);
        for (const id of missed) expect(id).toBeGreaterThan(Math.max(...createdDuring.slice(0, -3 * 8)));
        // No user is invented: everything in the file exists in the tenant.
        const tenantIds = new Set(sim.tenant.users.list.map((u) => u.id));
        for (const id of got) expect(tenantIds.has(id)).toBe(true);
        // Every grant's user is a resource of the file (no grant for a user that was skipped).
        for (const key of d.grants.keys()) {
          const uid = key.slice(key.lastIndexOf(':') + 1);
          expect(got.has(Number(uid)), key).toBe(true);
        }
      } finally {
        await sim.close();
      }
    });
  }

  it('the simulator really drifts: an offset walk over the same churn skips users (control)', async () => {
    // Proves the scenario above is hard enough to catch offset pagination: the same churn makes a
    // plain offset walk, with deactivation replaced by the record vanishing, miss users.
    const sim = await testSimulator({ tenant: { seed: 64, users: 300 } });
    try {
      const initial = sim.tenant.users.list.map((u) => u.id);
      const token = await simulatorToken(sim);
      const seen = new Set<number>();
      for (let offset = 0; ; offset += 50) {
        const res = await fetch(`${sim.url}/api/users?limit=50&offset=${offset}&fields=["id"]`, {
          headers: { accept: 'application/json', authorization: `Bearer ${token}` },
        });
        const page = (await res.json()) as Array<{ id: number }>;
        for (const u of page) seen.add(u.id);
        if (page.length < 50) break;
        // Between pages, one user already read disappears.
        const read = [...seen].find((id) => sim.tenant.users.get(id));
        if (read !== undefined) sim.tenant.removeUser(read);
      }
      const skipped = initial.filter((id) => !seen.has(id) && sim.tenant.users.get(id));
      expect(skipped.length).toBeGreaterThan(0);
    } finally {
      await sim.close();
    }
  });
});

/**
 * Issue 12: each kind of change, made by the simulator's `drift` switch between the pages of the
 * users walk, on a sparse tenant (ids far from 1, gaps, runs of holes, a few near 2^52).
 */
describe('drift on sparse ids, one case at a time', () => {
  async function driftSync(drift: NonNullable<Parameters<typeof testSimulator>[0]>['drift']) {
    const sim = await testSimulator({
      tenant: { seed: 81, users: 1500, userGroups: 40, roles: 25, ids: 'sparse' },
      drift,
    });
    const initial = sim.tenant.users.list.map((u) => u.id);
    const out = join(tmp.dir, `drift-case-${Math.random().toString(36).slice(2)}.c1z`);
    await syncOnce(sim, out);
    const d = await decode(out);
    expectNoDuplicates(d);
    const got = new Set(userIds(d));
    // Every grant's entitlement and principal are resources of the file.
    for (const id of d.grants.keys()) {
      const [type, rid] = id.split(':');
      expect(d.resources.has(`${type}:${rid}`), id).toBe(true);
      expect(got.has(Number(id.slice(id.lastIndexOf(':') + 1))), id).toBe(true);
    }
    return { sim, initial, got, d, out, log: sim.driftLog()! };
  }

  it('users created during the walk: every one created before the look above the top is read', async () => {
    const { sim, initial, got, log } = await driftSync({ every: 1, createUsers: 2, deactivateUsers: 0 });
    try {
      expect(initial.filter((id) => !got.has(id))).toEqual([]);
      expect(log.created.length).toBeGreaterThan(20);
      // Only the last rounds (answered with or after the look above) may be missed.
      const missed = log.created.filter((id) => !got.has(id));
      expect(missed.length).toBeLessThanOrEqual(2 * 8);
      for (const id of missed) expect(id).toBeGreaterThan(log.created[log.created.length - 2 * 8 - 1]!);
    } finally {
      await sim.close();
    }
  });

  it('users deactivated during the walk: nobody skipped, each with the status its page saw', async () => {
    const { sim, initial, got, out, log } = await driftSync({ every: 1, createUsers: 0, deactivateUsers: 3 });
    try {
      expect(initial.filter((id) => !got.has(id))).toEqual([]);
      expect(got.size).toBe(initial.length);
      expect(log.deactivated.length).toBeGreaterThan(30);
      // Deactivated before the sync ended: disabled, or enabled if its page was read first.
      let disabled = 0;
      for (const id of log.deactivated)
        if ((await statusOf(out, id)) === UserTrait_Status_Status.DISABLED) disabled++;
      expect(disabled).toBeGreaterThan(0);
    } finally {
      await sim.close();
    }
  });

  it('groups and roles deleted, and users removed, during the walk: nobody else skipped, no dangling grant', async () => {
    const { sim, initial, got, log } = await driftSync({
      every: 2,
      createUsers: 0,
      deactivateUsers: 0,
      deleteUserGroups: 1,
      deleteRoles: 1,
      removeUsers: 1,
    });
    try {
      expect(log.deletedUserGroups.length).toBeGreaterThan(3);
      expect(log.deletedRoles.length).toBeGreaterThan(3);
      expect(log.removedUsers.length).toBeGreaterThan(3);
      const removed = new Set(log.removedUsers);
      expect(initial.filter((id) => !removed.has(id) && !got.has(id))).toEqual([]);
      for (const id of got) expect(initial.includes(id)).toBe(true);
    } finally {
      await sim.close();
    }
  });
});
