import { describe, expect, it } from 'vitest';
import { ALL_LICENSE_FLAGS, generateTenant } from '../../src/simulator/index.js';
import { client, q } from './helpers.js';
import { testSimulator } from '../helpers/simulator.js';

describe('tenant generator', () => {
  it('is deterministic: same seed, same tenant; another seed, another tenant', () => {
    const a = generateTenant({ seed: 42, users: 500 });
    const b = generateTenant({ seed: 42, users: 500 });
    const c = generateTenant({ seed: 43, users: 500 });
    expect(JSON.stringify(a.users.list)).toBe(JSON.stringify(b.users.list));
    expect(JSON.stringify(a.memberships.list)).toBe(JSON.stringify(b.memberships.list));
    expect(JSON.stringify(a.users.list)).not.toBe(JSON.stringify(c.users.list));
  });

  it('honours the sizes with dense ids from 1, and keeps the built-in roles at 2, 3, 4', () => {
    const t = generateTenant({
      seed: 1,
      users: 77,
      userGroups: 5,
      roles: 7,
      contentGroups: 3,
      accountGroups: 2,
    });
    expect(t.users.list.map((u) => u.id)).toEqual(Array.from({ length: 77 }, (_, i) => i + 1));
    expect(t.userGroups.size).toBe(5);
    expect(t.roles.list.map((r) => r.id)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(t.roles.get(2)).toMatchObject({ name: 'Admin', omnipotent: true, systemRole: true });
    expect(t.roles.get(3)).toMatchObject({ name: 'User', systemRole: true });
    expect(t.roles.get(4)).toMatchObject({ name: 'Buyer', systemRole: true });
    expect(t.contentGroups.size).toBe(3);
    expect(t.accountGroups.size).toBe(2);
    expect(new Set(t.roles.list.map((r) => r.name)).size).toBe(7);
    expect(new Set(t.userGroups.list.map((r) => r.name)).size).toBe(5);
    expect(t.licenseFlags).toEqual(ALL_LICENSE_FLAGS);
  });

  it('has realistic shares of inactive users, API users, managers and licenses', () => {
    const t = generateTenant({ seed: 3, users: 20_000 });
    const users = t.users.list;
    const share = (pred: (u: (typeof users)[number]) => boolean) => users.filter(pred).length / users.length;
    expect(share((u) => !u.active)).toBeGreaterThan(0.06);
    expect(share((u) => !u.active)).toBeLessThan(0.1);
    expect(share((u) => u.apiUser)).toBeGreaterThan(0.005);
    expect(share((u) => u.apiUser)).toBeLessThan(0.02);
    const managers = new Set(users.map((u) => u.managerId).filter((m) => m !== null));
    expect(managers.size / users.length).toBeGreaterThan(0.07);
    expect(managers.size / users.length).toBeLessThan(0.13);
    const has = (flag: string) => share((u) => t.hasLicense(u, flag));
    expect(has('expense-user')).toBeGreaterThan(0.7);
    expect(has('purchasing-user')).toBeGreaterThan(0.3);
    expect(has('purchasing-user')).toBeLessThan(0.45);
    expect(has('analytics-user')).toBeLessThan(0.1);
    expect(has('analytics-user')).toBeGreaterThan(0);
    expect(share((u) => u.roleIds.includes(3))).toBe(1);
    expect(share((u) => u.roleIds.includes(2))).toBeLessThan(0.05);
    const groupsPerUser = users.reduce((n, u) => n + u.userGroupIds.length, 0) / users.length;
    expect(groupsPerUser).toBeGreaterThan(0.8);
    expect(groupsPerUser).toBeLessThan(3);
    expect(new Set(users.map((u) => u.login)).size).toBe(users.length);
    expect(new Set(users.map((u) => u.email)).size).toBe(users.length);
  });

  it('only hands out the license flags the tenant has', () => {
    const t = generateTenant({ seed: 1, users: 300, licenseFlags: ['expense-user', 'travel-user'] });
    expect(t.licenseFlags).toEqual(['expense-user', 'travel-user']);
    const gt = new Set(t.users.list.flatMap((u) => t.licensesOf(u)));
    expect([...gt].sort()).toEqual(['expense-user', 'travel-user']);
    expect(() => generateTenant({ licenseFlags: ['warp-drive-user'] })).toThrow(/Unknown license flag/);
  });

  it('100k users generate in a few seconds and keyset pages come back fast', async () => {
    const t0 = performance.now();
    const sim = await testSimulator({ tenant: { users: 100_000, seed: 1 } });
    try {
      expect(performance.now() - t0).toBeLessThan(8000);
      const api = await client(sim);
      const t1 = performance.now();
      for (const start of [0, 50_000, 99_950]) {
        const res = await api.get(
          `/api/users?${q({ 'id[gt]': String(start), 'id[lt_or_eq]': String(start + 50), order_by: 'id' })}`,
        );
        expect(res.json.map((u: { id: number }) => u.id)).toEqual(
          Array.from({ length: 50 }, (_, i) => start + i + 1),
        );
      }
      expect(performance.now() - t1).toBeLessThan(1500);
    } finally {
      await sim.close();
    }
  });
});
