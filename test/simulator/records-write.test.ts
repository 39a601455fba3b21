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
  s = await testSimulator({
    tenant: { users: 20, seed: 8, userGroups: 4, roles: 6, contentGroups: 3, accountGroups: 2 },
    ...opts,
  });
  return { s, api: await client(s) };
}

describe('create and update roles and groups', () => {
  it('POST creates each kind (201) with a unique, required name', async () => {
    const { s, api } = await setup();
    const cases: Array<[string, Record<string, unknown>, number]> = [
      ['/api/roles', { name: 'Auditor', description: 'reads everything' }, 7],
      ['/api/user_groups', { name: 'Auditors', can_approve: true }, 5],
      ['/api/business_groups', { name: 'Mars' }, 4],
      ['/api/account_groups', { name: 'Rovers', 'account-group-type': 2 }, 3],
    ];
    for (const [path, body, id] of cases) {
      const res = await api.post(path, body);
      expect(res.status, `${path} ${res.text}`).toBe(201);
      expect(res.json).toMatchObject({ id, name: body['name'] });
      expect((await api.get(`${path}/${id}`)).json.name).toBe(body['name']);
      const dup = await api.post(path, { name: body['name'] });
      expect(dup.status).toBe(400);
      expect(JSON.stringify(dup.json)).toContain('Name has already been taken');
      expect((await api.post(path, { description: 'no name' })).status).toBe(400);
    }
    expect(s.tenant.userGroups.get(5)!.canApprove).toBe(true);
    expect(s.tenant.accountGroups.get(3)!.accountGroupType).toBe(2);
  });

  it('PUT renames and flips flags; an invalid value changes nothing', async () => {
    const { s, api } = await setup();
    const res = await api.put('/api/user_groups/2', { name: 'Renamed', active: false });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ id: 2, name: 'Renamed', active: false });
    const before = JSON.stringify(s.tenant.roles.get(5));
    expect((await api.put('/api/roles/5', { name: 'X', omnipotent: 'maybe' })).status).toBe(400);
    expect(JSON.stringify(s.tenant.roles.get(5))).toBe(before);
    expect((await api.put('/api/roles/5', { name: s.tenant.roles.get(2)!.name })).status).toBe(400);
    expect((await api.put('/api/business_groups/99', { name: 'Y' })).status).toBe(404);
  });

  it('group-side member edits follow the array mode and stay consistent with users', async () => {
    for (const mode of ['merge', 'replace'] as const) {
      const { s: x, api } = await setup({ arrayMode: mode });
      const start = x.tenant.membersOf(1);
      const outsider = x.tenant.users.list.find((u) => !start.includes(u.id))!;
      const res = await api.put('/api/user_groups/1', { users: [{ id: outsider.id }] });
      const members = (res.json.users as Array<{ id: number }>).map((u) => u.id);
      if (mode === 'merge') expect(members).toEqual([...start, outsider.id].sort((a, b) => a - b));
      else expect(members).toEqual([outsider.id]);
      expect(
        ((await api.get(`/api/users/${outsider.id}`)).json['user-groups'] as Array<{ id: number }>).map(
          (g) => g.id,
        ),
      ).toContain(1);
      const cleared = await api.put('/api/user_groups/1', { users: null });
      expect(cleared.json.users).toEqual([]);
      expect(x.groundTruth().memberships.userGroups.filter(([, g]) => g === 1)).toEqual([]);
      expect((await api.put('/api/user_groups/1', { users: [{ login: 'ghost' }] })).status).toBe(400);
      await x.close();
      s = undefined;
    }
  });

  it('writes need the write scope of the resource family', async () => {
    const { s } = await setup();
    const readOnly = await client(s, 'core.common.read core.user_group.read core.accounting.read');
    expect((await readOnly.post('/api/roles', { name: 'Nope' })).status).toBe(403);
    expect((await readOnly.put('/api/user_groups/1', { name: 'Nope' })).status).toBe(403);
    expect((await readOnly.post('/api/account_groups', { name: 'Nope' })).status).toBe(403);
    const writer = await client(s, 'core.common.write');
    expect((await writer.post('/api/business_groups', { name: 'Yes' })).status).toBe(201);
  });
});
