import { afterEach, describe, expect, it } from 'vitest';
import type { Simulator, SimulatorOptions } from '../../src/simulator/index.js';
import { client, q } from './helpers.js';
import { testSimulator } from '../helpers/simulator.js';

let s: Simulator | undefined;
afterEach(async () => {
  await s?.close();
  s = undefined;
});

async function setup(opts: SimulatorOptions = {}) {
  s = await testSimulator({ tenant: { users: 30, seed: 5, userGroups: 9, roles: 8 }, ...opts });
  return { s, api: await client(s) };
}

const ids = (list: Array<{ id: number }>) => list.map((x) => x.id);

describe('POST /api/users', () => {
  it('creates a user (201), auto-assigns the User role, accepts underscore keys and a manager by login', async () => {
    const { s, api } = await setup();
    const mgr = s.tenant.users.get(4)!;
    const res = await api.post('/api/users', {
      login: 'new.person',
      email: 'new.person@example.com',
      firstname: 'New',
      lastname: 'Person',
      employee_number: 'X-1',
      'purchasing-user': true,
      manager: { login: mgr.login },
      roles: [{ name: 'Buyer' }],
    });
    expect(res.status, res.text).toBe(201);
    expect(res.json).toMatchObject({
      id: 31,
      login: 'new.person',
      fullname: 'New Person',
      'employee-number': 'X-1',
      'purchasing-user': true,
      'expense-user': false,
    });
    expect(res.json.manager).toMatchObject({ id: mgr.id, login: mgr.login });
    expect(ids(res.json.roles)).toEqual([3, 4]);
    expect((await api.get('/api/users/31')).json.login).toBe('new.person');
    expect(s.groundTruth().users.at(-1)).toMatchObject({ id: 31, login: 'new.person' });
  });

  it('requires login, email, firstname and lastname', async () => {
    const { s, api } = await setup();
    const res = await api.post('/api/users', { login: 'x' });
    expect(res.status).toBe(400);
    expect(res.json.errors.user).toEqual(
      expect.arrayContaining(["Email can't be blank", "Firstname can't be blank", "Lastname can't be blank"]),
    );
    expect(res.json.errors.user).not.toContain("Login can't be blank");
    expect(s.tenant.users.size).toBe(30);
  });

  it('rejects duplicates of login, email, employee-number, sso-identifier and mention-name', async () => {
    const { s, api } = await setup();
    const taken = s.tenant.users.list.find((u) => u.ssoIdentifier && u.employeeNumber)!;
    const base = { login: 'fresh', email: 'fresh@example.com', firstname: 'F', lastname: 'R' };
    const cases: Array<[Record<string, string>, string]> = [
      [{ login: taken.login }, 'Login has already been taken'],
      [{ email: taken.email }, 'Email has already been taken'],
      [{ 'employee-number': taken.employeeNumber! }, 'Employee number has already been taken'],
      [{ sso_identifier: taken.ssoIdentifier! }, 'Sso identifier has already been taken'],
      [{ 'mention-name': taken.mentionName! }, 'Mention name has already been taken'],
    ];
    for (const [extra, message] of cases) {
      const res = await api.post('/api/users', { ...base, ...extra });
      expect(res.status, message).toBe(400);
      expect(res.json).toEqual({ errors: { user: [message] } });
    }
    expect(s.tenant.users.size).toBe(30);
    expect((await api.post('/api/users', base)).status).toBe(201);
  });

  it('DELETE on users is not allowed', async () => {
    const { s, api } = await setup();
    expect((await api.del('/api/users/1')).status).toBe(405);
    expect(s.tenant.users.get(1)).toBeDefined();
  });
});

describe('PUT /api/users/:id', () => {
  it('toggles active and license flags and bumps updated-at only on a change', async () => {
    const { s, api } = await setup();
    const was = s.tenant.users.get(2)!.active;
    const before = (await api.get('/api/users/2')).json['updated-at'];
    const same = await api.put('/api/users/2', { active: was });
    expect(same.json['updated-at']).toBe(before);
    const res = await api.put('/api/users/2', { active: !was, analytics_user: true });
    expect(res.status).toBe(200);
    expect(res.json.active).toBe(!was);
    expect((await api.get('/api/users/2')).json.active).toBe(!was);
    expect(res.json['analytics-user']).toBe(true);
    expect(res.json['updated-at']).not.toBe(before);
    expect(Date.parse(res.json['updated-at'])).toBeGreaterThan(Date.parse(before));
    const off = await api.put('/api/users/2', { 'analytics-user': false });
    expect(off.json['analytics-user']).toBe(false);
  });

  it('silently ignores read-only fields', async () => {
    const { s, api } = await setup();
    const u = s.tenant.users.get(3)!;
    const res = await api.put('/api/users/3', {
      id: 999,
      fullname: 'Hacked Name',
      'api-user': !u.apiUser,
      'created-at': '2000-01-01T00:00:00+00:00',
    });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({
      id: 3,
      fullname: `${u.firstname} ${u.lastname}`,
      'api-user': u.apiUser,
    });
  });

  it('merge mode: a non-empty list adds, [] clears, null clears', async () => {
    const { s, api } = await setup({ arrayMode: 'merge' });
    const u = s.tenant.users.get(5)!;
    const start = [...u.roleIds];
    const added = await api.put('/api/users/5', { roles: [{ id: 7 }, { name: 'Buyer' }] });
    expect(ids(added.json.roles)).toEqual([...new Set([...start, 4, 7])].sort((a, b) => a - b));
    const cleared = await api.put('/api/users/5', { roles: [] });
    expect(cleared.json.roles).toEqual([]);
    await api.put('/api/users/5', { roles: [{ id: 3 }, { id: 4 }] });
    const nulled = await api.put('/api/users/5', { roles: null });
    expect(nulled.json.roles).toEqual([]);
    // Coupa's two-step removal: clear, then put back what stays.
    await api.put('/api/users/5', { 'content-groups': [{ id: 1 }, { id: 2 }] });
    await api.put('/api/users/5', { content_groups: null });
    const kept = await api.put('/api/users/5', { content_groups: [{ id: 2 }] });
    expect(ids(kept.json['content-groups'])).toEqual([2]);
  });

  it('replace mode: a non-empty list replaces', async () => {
    const { api } = await setup({ arrayMode: 'replace' });
    await api.put('/api/users/6', { roles: [{ id: 3 }, { id: 4 }, { id: 6 }] });
    const res = await api.put('/api/users/6', { roles: [{ id: 5 }] });
    expect(ids(res.json.roles)).toEqual([5]);
    const ag = await api.put('/api/users/6', { 'account-groups': [{ id: 2 }] });
    expect(ids(ag.json['account-groups'])).toEqual([2]);
    const again = await api.put('/api/users/6', { account_groups: [{ id: 3 }] });
    expect(ids(again.json['account-groups'])).toEqual([3]);
  });

  it('user-groups on the user keep group members and memberships consistent', async () => {
    const { s, api } = await setup({ arrayMode: 'replace' });
    const res = await api.put('/api/users/7', { user_groups: [{ id: 1 }, { id: 2 }] });
    expect(ids(res.json['user-groups'])).toEqual([1, 2]);
    const g1 = (await api.get('/api/user_groups/1')).json;
    expect(ids(g1.users)).toContain(7);
    const mem = await api.get('/api/user_group_memberships?user_id=7');
    expect((mem.json as Array<{ 'user-group-id': number }>).map((m) => m['user-group-id']).sort()).toEqual([
      1, 2,
    ]);
    await api.put('/api/users/7', { 'user-groups': null });
    expect(ids((await api.get('/api/user_groups/1')).json.users)).not.toContain(7);
    expect((await api.get('/api/user_group_memberships?user_id=7')).json).toEqual([]);
    expect(s.groundTruth().memberships.userGroups.filter(([u]) => u === 7)).toEqual([]);
  });

  it('approval-groups only accept can-approve groups and land in user-groups', async () => {
    const { s, api } = await setup();
    const approving = s.tenant.userGroups.list.find((g) => g.canApprove)!;
    const plain = s.tenant.userGroups.list.find((g) => !g.canApprove)!;
    const bad = await api.put('/api/users/8', { 'approval-groups': [{ id: plain.id }] });
    expect(bad.status).toBe(400);
    const res = await api.put('/api/users/8', { 'approval-groups': [{ name: approving.name }] });
    expect(ids(res.json['approval-groups'])).toContain(approving.id);
    expect(ids(res.json['user-groups'])).toContain(approving.id);
  });

  it('an unknown reference is a 400 that changes nothing', async () => {
    const { s, api } = await setup();
    const before = JSON.stringify(s.tenant.users.get(9));
    const res = await api.put('/api/users/9', {
      active: false,
      'expense-user': false,
      roles: [{ id: 4 }, { id: 999 }],
      user_groups: [{ name: 'Nope' }],
    });
    expect(res.status).toBe(400);
    const messages: string[] = res.json.errors.user;
    expect(messages[0]).toMatch(
      /^Unable to find valid Role record for roles with keys \{"id"=>999\}\. Possible keys are \["id", "name"\]$/,
    );
    expect(messages[1]).toContain('Unable to find valid UserGroup record');
    expect(JSON.stringify(s.tenant.users.get(9))).toBe(before);
    const badManager = await api.put('/api/users/9', { manager: { login: 'ghost' } });
    expect(badManager.status).toBe(400);
    expect(JSON.stringify(s.tenant.users.get(9))).toBe(before);
  });

  it('sets the manager by id or login and clears it with null', async () => {
    const { s, api } = await setup();
    const byId = await api.put('/api/users/10', { manager: { id: 11 } });
    expect(byId.json.manager).toMatchObject({ id: 11, login: s.tenant.users.get(11)!.login });
    const byLogin = await api.put('/api/users/10', { manager: { login: s.tenant.users.get(12)!.login } });
    expect(byLogin.json.manager.id).toBe(12);
    expect((await api.put('/api/users/10', { manager: null })).json.manager).toBeNull();
  });

  it('unrevokable licenses stay true on PUT false (200), others do not', async () => {
    const { s, api } = await setup({ unrevokableLicenses: ['purchasing-user'] });
    await api.put('/api/users/12', { purchasing_user: true, 'contracts-user': true });
    const res = await api.put('/api/users/12', { 'purchasing-user': false, 'contracts-user': false });
    expect(res.status).toBe(200);
    expect(res.json['purchasing-user']).toBe(true);
    expect(res.json['contracts-user']).toBe(false);
    expect(s.groundTruth().memberships.licenses).toContainEqual([12, 'purchasing-user']);
  });

  it('fields and return_object=none trim the PUT response', async () => {
    const { api } = await setup();
    const trimmed = await api.put(`/api/users/13?${q({ fields: '["id",{"roles":["id","name"]}]' })}`, {
      roles: [{ id: 4 }],
    });
    expect(Object.keys(trimmed.json).sort()).toEqual(['id', 'roles']);
    expect(trimmed.json.roles).toContainEqual({ id: 4, name: 'Buyer' });
    const none = await api.put('/api/users/13?return_object=none', { active: false });
    expect(none.status).toBe(200);
    expect(none.text).toBe('');
    expect((await api.get('/api/users/13')).json.active).toBe(false);
  });

  it('404 for an unknown user, 400 for a non-JSON body', async () => {
    const { s, api } = await setup();
    expect((await api.put('/api/users/4040', { active: false })).status).toBe(404);
    const res = await fetch(`${s.url}/api/users/1`, {
      method: 'PUT',
      headers: {
        Authorization: `Bearer ${api.tok}`,
        Accept: 'application/json',
        'Content-Type': 'application/xml',
      },
      body: '<user><active>false</active></user>',
    });
    expect(res.status).toBe(400);
  });
});

describe('PUT validation of required fields', () => {
  it('blanking a required field is a 400 that changes nothing', async () => {
    const { s, api } = await setup();
    const before = JSON.stringify(s.tenant.users.get(14));
    const res = await api.put('/api/users/14', { email: '', active: false });
    expect(res.status).toBe(400);
    expect(res.json).toEqual({ errors: { user: ["Email can't be blank"] } });
    expect(JSON.stringify(s.tenant.users.get(14))).toBe(before);
  });
});
