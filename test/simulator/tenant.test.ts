import { afterEach, describe, expect, it } from 'vitest';
import { generateTenant, type Simulator } from '../../src/simulator/index.js';
import { client, TENANT } from './helpers.js';
import { testSimulator } from '../helpers/simulator.js';

let s: Simulator | undefined;
afterEach(async () => {
  await s?.close();
  s = undefined;
});

describe('mutating the live tenant in-process (what sync tests do mid-run)', () => {
  it('a user created, changed or removed in-process is what the API serves next', async () => {
    s = await testSimulator({ tenant: { users: 10, seed: 4, userGroups: 3 } });
    const api = await client(s);
    const created = s.tenant.createUser({
      login: 'mid.sync',
      email: 'mid@example.com',
      firstname: 'Mid',
      lastname: 'Sync',
      'user-groups': [{ id: 1 }],
    });
    expect(created.id).toBe(11);
    const got = await api.get('/api/users/11');
    expect(got.json).toMatchObject({
      login: 'mid.sync',
      roles: [{ id: 3, name: 'User' }],
      'user-groups': [{ id: 1 }],
    });

    s.tenant.updateUser(4, { active: false });
    s.tenant.setLicense(4, 'travel-user', true);
    expect((await api.get('/api/users/4')).json).toMatchObject({ active: false, 'travel-user': true });

    const removed = s.tenant.users.get(5)!;
    const groups = [...removed.userGroupIds];
    expect(s.tenant.removeUser(5)).toBe(true);
    expect((await api.get('/api/users/5')).status).toBe(404);
    expect((await api.get('/api/users?id[gt]=4&limit=1')).json[0].id).toBe(6);
    for (const g of groups)
      expect(
        ((await api.get(`/api/user_groups/${g}`)).json.users as Array<{ id: number }>).map((u) => u.id),
      ).not.toContain(5);
    expect(s.groundTruth().memberships.userGroups.some(([u]) => u === 5)).toBe(false);
    expect(s.tenant.removeUser(5)).toBe(false);
  });

  it('removing a role or group record removes it from every user; new records are served', async () => {
    s = await testSimulator({ tenant: { users: 40, seed: 4, userGroups: 3 } });
    const api = await client(s);
    expect(s.tenant.users.list.some((u) => u.roleIds.includes(4))).toBe(true);
    s.tenant.removeRecord('roles', 4);
    expect((await api.get('/api/users?roles[id]=4')).json).toEqual([]);
    expect((await api.get('/api/roles/4')).status).toBe(404);
    const role = s.tenant.createRole('Late Role');
    s.tenant.updateUser(1, { roles: [{ name: 'Late Role' }] });
    expect(
      ((await api.get(`/api/users?roles[id]=${role.id}`)).json as Array<{ id: number }>).map((u) => u.id),
    ).toEqual([1]);
    const cg = s.tenant.createContentGroup('Late CG');
    const ag = s.tenant.createAccountGroup('Late AG');
    const ug = s.tenant.createUserGroup('Late UG', { canApprove: true });
    s.tenant.updateUser(2, {
      content_groups: [{ id: cg.id }],
      account_groups: [{ id: ag.id }],
      'approval-groups': [{ id: ug.id }],
    });
    const u2 = (await api.get('/api/users/2')).json;
    expect((u2['content-groups'] as Array<{ name: string }>).map((g) => g.name)).toContain('Late CG');
    expect((u2['account-groups'] as Array<{ name: string }>).map((g) => g.name)).toContain('Late AG');
    expect((u2['approval-groups'] as Array<{ name: string }>).map((g) => g.name)).toContain('Late UG');
  });

  it('a ready Tenant can be passed in and is served as is', async () => {
    const tenant = generateTenant({ seed: 12, users: 5 });
    s = await testSimulator({ tenant });
    expect(s.tenant).toBe(tenant);
    const api = await client(s);
    expect(((await api.get('/api/users')).json as Array<{ login: string }>).map((u) => u.login)).toEqual(
      tenant.users.list.map((u) => u.login),
    );
  });

  it('a malformed Basic header is invalid_client, not a crash', async () => {
    s = await testSimulator({ tenant: TENANT });
    const res = await fetch(`${s.url}/oauth2/token`, {
      method: 'POST',
      headers: { Authorization: `Basic ${Buffer.from('%zz:%zz').toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'client_credentials' }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: 'invalid_client' });
  });
});
