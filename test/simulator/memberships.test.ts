import { afterEach, describe, expect, it } from 'vitest';
import type { Simulator, SimulatorOptions } from '../../src/simulator/index.js';
import { client } from './helpers.js';
import { testSimulator } from '../helpers/simulator.js';

let s: Simulator | undefined;
afterEach(async () => {
  await s?.close();
  s = undefined;
});

async function setup(opts: SimulatorOptions = {}) {
  s = await testSimulator({ tenant: { users: 25, seed: 9, userGroups: 6 }, ...opts });
  return { s, api: await client(s) };
}

describe('/api/user_group_memberships', () => {
  it('creates a membership (201) that shows on the user and on the group', async () => {
    const { s, api } = await setup();
    const user = s.tenant.users.list.find((u) => !u.userGroupIds.includes(3))!;
    const res = await api.post('/api/user_group_memberships', { 'user-id': user.id, user_group_id: 3 });
    expect(res.status, res.text).toBe(201);
    expect(res.json).toMatchObject({
      'user-id': user.id,
      'user-group-id': 3,
      user: { id: user.id },
      'user-group': { id: 3 },
    });
    const id = res.json.id as number;
    expect((await api.get(`/api/user_group_memberships/${id}`)).json).toMatchObject({
      id,
      'user-id': user.id,
    });
    expect(
      ((await api.get(`/api/users/${user.id}`)).json['user-groups'] as Array<{ id: number }>).map(
        (g) => g.id,
      ),
    ).toContain(3);
    expect(
      ((await api.get('/api/user_groups/3')).json.users as Array<{ id: number }>).map((u) => u.id),
    ).toContain(user.id);
  });

  it('rejects duplicates and unknown users or groups', async () => {
    const { s, api } = await setup();
    const user = s.tenant.users.list.find((u) => u.userGroupIds.length > 0)!;
    const dup = await api.post('/api/user_group_memberships', {
      user_id: user.id,
      user_group_id: user.userGroupIds[0],
    });
    expect(dup.status).toBe(400);
    expect((await api.post('/api/user_group_memberships', { user_id: 9999, user_group_id: 1 })).status).toBe(
      400,
    );
    expect(
      (await api.post('/api/user_group_memberships', { user: { id: 1 }, 'user-group': { id: 999 } })).status,
    ).toBe(400);
  });

  it('index filters by user and group and agrees with the users’ user-groups', async () => {
    const { s, api } = await setup();
    const byGroup = await api.get('/api/user_group_memberships?user_group_id=2');
    const members = (byGroup.json as Array<{ 'user-id': number }>).map((m) => m['user-id']);
    expect(members).toEqual(s.tenant.users.list.filter((u) => u.userGroupIds.includes(2)).map((u) => u.id));
    const all: Array<[number, number]> = [];
    for (let offset = 0; ; offset += 50) {
      const page = (await api.get(`/api/user_group_memberships?offset=${offset}`)).json as Array<{
        'user-id': number;
        'user-group-id': number;
      }>;
      all.push(...page.map((m): [number, number] => [m['user-id'], m['user-group-id']]));
      if (page.length < 50) break;
    }
    const sorted = all.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    expect(sorted).toEqual(s.groundTruth().memberships.userGroups);
  });

  it('DELETE is off by default (404) and removes the membership when switched on', async () => {
    const off = await setup();
    const m1 = off.s.tenant.memberships.list[0]!;
    expect((await off.api.del(`/api/user_group_memberships/${m1.id}`)).status).toBe(404);
    expect(off.s.tenant.memberships.get(m1.id)).toBeDefined();
    await off.s.close();

    const { s: on, api } = await setup({ membershipDelete: true });
    s = on;
    const m = on.tenant.memberships.list[0]!;
    const res = await api.del(`/api/user_group_memberships/${m.id}`);
    expect(res.status).toBe(200);
    expect((await api.get(`/api/user_group_memberships/${m.id}`)).status).toBe(404);
    const groups = (
      (await api.get(`/api/users/${m.userId}`)).json['user-groups'] as Array<{ id: number }>
    ).map((g) => g.id);
    expect(groups).not.toContain(m.userGroupId);
  });

  it('group-side edits bump the user’s updated-at only when switched on', async () => {
    for (const bump of [false, true]) {
      const { s: x, api } = await setup({ groupSideEditsBumpUser: bump });
      const user = x.tenant.users.list.find((u) => !u.userGroupIds.includes(1))!;
      const before = (await api.get(`/api/users/${user.id}`)).json['updated-at'];
      await api.post('/api/user_group_memberships', { user_id: user.id, user_group_id: 1 });
      const after = (await api.get(`/api/users/${user.id}`)).json['updated-at'];
      if (bump) expect(after).not.toBe(before);
      else expect(after).toBe(before);
      await x.close();
      s = undefined;
    }
  });
});
