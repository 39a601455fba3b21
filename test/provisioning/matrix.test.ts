import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from '../../src/simulator/index.js';
import {
  UnknownEntitlementError,
  UnknownUserError,
  type ArrayMembershipType,
  type Provisioner,
} from '../../src/connector/provisioning/index.js';
import {
  allHoldings,
  arrange,
  COUPLED,
  entitlementIdFor,
  holdings,
  KINDS,
  provisionerFor,
  writeCount,
} from './helpers.js';
import { testSimulatorWithDir } from '../helpers/simulator.js';

/**
 * Acceptance matrix: every entitlement kind × both array semantics × grant, revoke, already
 * held, already revoked, unknown user, unknown entitlement — each checked against the simulator's
 * ground truth, not against what the provisioner says it did.
 */
const LICENSES = ['expense-user', 'treasury-user', 'analytics-user'];

describe.each(['merge', 'replace'] as const)('array mode %s', (arrayMode) => {
  let sim: Simulator;
  let p: Provisioner;
  let stop: () => Promise<void>;
  let dir: string;

  beforeAll(async () => {
    const t = await testSimulatorWithDir({
      arrayMode,
      tenant: { users: 12, seed: 11, roles: 6, userGroups: 6, contentGroups: 4, accountGroups: 4 },
    });
    sim = t.sim;
    stop = t.stop;
    dir = t.dir;
    p = provisionerFor(sim, dir);
    // Three approval groups (user groups that can approve) for the approval_group rows.
    for (let n = 0; sim.tenant.userGroups.list.filter((g) => g.canApprove).length < 3; n++) {
      sim.tenant.createUserGroup(`Matrix Approvers ${n}`, { canApprove: true });
    }
  });
  afterAll(() => stop());

  describe.each(KINDS)('%s', (kind) => {
    // Three existing items of this kind: a, b, c.
    const items = (): (number | string)[] =>
      kind === 'license'
        ? LICENSES
        : kind === 'approval_group'
          ? sim.tenant.userGroups.list
              .filter((g) => g.canApprove)
              .slice(0, 3)
              .map((g) => g.id)
          : [2, 3, 4];
    const ent = (item: number | string) => entitlementIdFor(kind, item);
    const userFor = (n: number) => 1 + ((KINDS.indexOf(kind) * 2 + n) % 12);
    /** Other kinds are untouched, but for the coupled kind (groups ↔ approval groups) on `item`. */
    const unchangedOtherKinds = (
      userId: number,
      before: Record<string, (number | string)[]>,
      item: number | string,
    ) => {
      const after = allHoldings(sim, userId);
      for (const k of KINDS) {
        if (k === kind) continue;
        if (k === COUPLED[kind]) {
          const without = (xs: (number | string)[]) => xs.filter((x) => x !== item);
          expect(without(after[k]!), `${k} of user ${userId}`).toEqual(without(before[k]!));
        } else expect(after[k], `${k} of user ${userId}`).toEqual(before[k]);
      }
    };
    const sorted = (xs: (number | string)[]) =>
      [...xs].sort((x, y) =>
        typeof x === 'number' ? (x as number) - (y as number) : String(x).localeCompare(String(y)),
      );

    it('grants', async () => {
      const [a, b] = items();
      const user = userFor(0);
      arrange(sim, user, kind, [a!]);
      const before = allHoldings(sim, user);
      const r = await p.grant(ent(b!), user);
      expect(r.outcome).toBe('granted');
      expect(holdings(sim, user, kind)).toEqual(sorted([a!, b!]));
      unchangedOtherKinds(user, before, b!);
    });

    it('revokes', async () => {
      const [a, b, c] = items();
      const user = userFor(1);
      arrange(sim, user, kind, [a!, b!, c!]);
      const before = allHoldings(sim, user);
      const r = await p.revoke(ent(b!), user);
      expect(r.outcome).toBe('revoked');
      expect(holdings(sim, user, kind)).toEqual(sorted([a!, c!]));
      unchangedOtherKinds(user, before, b!);
    });

    it('reports already held without writing', async () => {
      const [a, b] = items();
      const user = userFor(0);
      arrange(sim, user, kind, [a!, b!]);
      const writes = writeCount(sim);
      const r = await p.grant(ent(b!), user);
      expect(r.outcome).toBe('already-granted');
      expect(writeCount(sim)).toBe(writes);
      expect(holdings(sim, user, kind)).toEqual(sorted([a!, b!]));
    });

    it('reports already revoked without writing', async () => {
      const [a, b] = items();
      const user = userFor(1);
      arrange(sim, user, kind, [a!]);
      const writes = writeCount(sim);
      const r = await p.revoke(ent(b!), user);
      expect(r.outcome).toBe('already-revoked');
      expect(writeCount(sim)).toBe(writes);
      expect(holdings(sim, user, kind)).toEqual([a!]);
    });

    it('refuses an unknown user with a typed error', async () => {
      const [a] = items();
      const writes = writeCount(sim);
      await expect(p.grant(ent(a!), 4242)).rejects.toBeInstanceOf(UnknownUserError);
      await expect(p.revoke(ent(a!), 4242)).rejects.toThrow(/no user "4242".*answered 404/);
      expect(writeCount(sim)).toBe(writes);
    });

    it('refuses an unknown entitlement with a typed error and changes nothing', async () => {
      const [a] = items();
      const user = userFor(2);
      arrange(sim, user, kind, [a!]);
      const before = allHoldings(sim, user);
      const unknown = kind === 'license' ? 'license:moon-user:assigned' : entitlementIdFor(kind, 9999);
      const grant = p.grant(unknown, user);
      await expect(grant).rejects.toBeInstanceOf(UnknownEntitlementError);
      await expect(p.revoke(unknown, user)).rejects.toBeInstanceOf(UnknownEntitlementError);
      await expect(
        p.grant(kind === 'license' ? 'license::assigned' : entitlementIdFor(kind, 'abc'), user),
      ).rejects.toBeInstanceOf(UnknownEntitlementError);
      expect(allHoldings(sim, user)).toEqual(before);
      if (kind !== 'license') {
        // The grant reached Coupa and was refused there (400), not just by our parser.
        expect(sim.counters().byRouteStatus['PUT /api/users/:id']?.['400']).toBeGreaterThan(0);
        await expect(p.grant(unknown, user)).rejects.toThrow(
          new RegExp(`no ${kind === 'group' ? 'user group' : kind.replace('_', ' ')} 9999`),
        );
      }
    });
  });

  it('detects the array mode from the API, without being told', async () => {
    const user = 5;
    arrange(sim, user, 'role', [2, 3, 4]);
    sim.resetCounters();
    const fresh = provisionerFor(sim, dir);
    await fresh.revoke('role:3:member', user);
    const puts = sim.counters().byRoute['PUT /api/users/:id'];
    // replace: one PUT of the rest. merge: that PUT (which reveals merging), then clear and set.
    expect(puts).toBe(arrayMode === 'replace' ? 1 : 3);
    await fresh.revoke('role:4:member', user);
    expect(sim.counters().byRoute['PUT /api/users/:id']).toBe(puts! + (arrayMode === 'replace' ? 1 : 2));
    expect(holdings(sim, user, 'role')).toEqual([2]);
  });
});

export type { ArrayMembershipType };
