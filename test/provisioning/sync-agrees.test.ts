import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from '../../src/simulator/index.js';
import { C1zReader } from '../../src/c1z/reader.js';
import { syncToC1z } from '../../src/connector/sync.js';
import type { Provisioner } from '../../src/connector/provisioning/index.js';
import { arrange, entitlementIdFor, KINDS, provisionerFor, PROVISIONING_CLIENT, TENANT } from './helpers.js';
import { testClient } from '../helpers/client.js';
import { testSimulatorWithDir } from '../helpers/simulator.js';

/**
 * What provisioning changed is what the next sync reports: the grant id the sync writes for a
 * granted entitlement is exactly `<entitlement id>:user:<uid>`, and it is gone after a revoke.
 */
let sim: Simulator;
let dir: string;
let stop: () => Promise<void>;
let p: Provisioner;

beforeAll(async () => {
  ({ sim, dir, stop } = await testSimulatorWithDir({ tenant: TENANT, arrayMode: 'merge' }));
  p = provisionerFor(sim, dir);
});
afterAll(() => stop());

async function grantIdsOf(userId: number, file: string): Promise<Set<string>> {
  await syncToC1z({ client: testClient(sim, PROVISIONING_CLIENT), outPath: join(dir, file) });
  const reader = await C1zReader.open(join(dir, file));
  try {
    return new Set(
      [...reader.grants({ principalType: 'user', principalId: String(userId) })].map((g) => g.id),
    );
  } finally {
    reader.close();
  }
}

describe('a sync after provisioning', () => {
  const user = 4;
  const items: Record<(typeof KINDS)[number], number | string> = {
    role: 3,
    group: 2,
    content_group: 2,
    account_group: 3,
    approval_group: 0,
    license: 'treasury-user',
  };
  const held: Record<string, (number | string)[]> = {};

  beforeAll(() => {
    // Approval groups are the groups that can approve: held and granted ones must be such groups,
    // and group 2 (granted as a plain membership) must not be one.
    const approving = sim.tenant.userGroups.list.filter((g) => g.canApprove).map((g) => g.id);
    const plain = sim.tenant.userGroups.list.filter((g) => !g.canApprove).map((g) => g.id);
    expect(approving.length).toBeGreaterThanOrEqual(2);
    items.group = plain.find((id) => id !== 1)!;
    items.approval_group = approving.find((id) => id !== 1)!;
    for (const kind of KINDS) held[kind] = kind === 'license' ? ['expense-user'] : [1];
    held.approval_group = [approving.find((id) => id !== items.approval_group)!];
    for (const kind of KINDS) arrange(sim, user, kind, held[kind]!);
  });

  it('shows each new grant, then no longer shows it once revoked', async () => {
    const granted = KINDS.map((kind) => `${entitlementIdFor(kind, items[kind])}:user:${user}`);
    const before = await grantIdsOf(user, 'before.c1z');
    for (const id of granted) expect(before.has(id), id).toBe(false);

    for (const kind of KINDS) await p.grant(entitlementIdFor(kind, items[kind]), user);
    const afterGrant = await grantIdsOf(user, 'after-grant.c1z');
    for (const id of granted) expect(afterGrant.has(id), id).toBe(true);
    // The grants the user had before are still there.
    expect([...before].every((id) => afterGrant.has(id))).toBe(true);

    for (const id of granted) await p.revokeGrant(id);
    const afterRevoke = await grantIdsOf(user, 'after-revoke.c1z');
    for (const id of granted) expect(afterRevoke.has(id), id).toBe(false);
    expect([...afterRevoke].sort()).toEqual([...before].sort());
  });
});
