import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator, UserRecord } from '../../src/simulator/index.js';
import { client, q } from './helpers.js';
import { testSimulator, withTestSimulator } from '../helpers/simulator.js';

type Api = Awaited<ReturnType<typeof client>>;
let s: Simulator;
let api: Api;
let users: readonly UserRecord[];

beforeAll(async () => {
  s = await testSimulator({
    tenant: { users: 130, seed: 11, userGroups: 8, roles: 9, contentGroups: 5, accountGroups: 4 },
  });
  api = await client(s);
  users = s.tenant.users.list;
});
afterAll(() => s.close());

async function ids(path: string): Promise<number[]> {
  const res = await api.get(path);
  expect(res.status, res.text).toBe(200);
  return (res.json as Array<{ id: number }>).map((u) => u.id);
}

const idsWhere = (pred: (u: UserRecord) => boolean) => users.filter(pred).map((u) => u.id);
const first50 = (list: number[]) => list.slice(0, 50);

describe('paging and ordering', () => {
  it('never returns more than 50 records, whatever limit asks', async () => {
    expect(await ids('/api/users?limit=500')).toHaveLength(50);
    expect(await ids('/api/users')).toHaveLength(50);
    expect(await ids('/api/users?limit=7')).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it('offsets into the id-ordered list and ends with a short, then empty page', async () => {
    expect(await ids('/api/users?offset=50')).toEqual(users.slice(50, 100).map((u) => u.id));
    expect(await ids('/api/users?offset=100')).toEqual(users.slice(100).map((u) => u.id));
    expect(await ids('/api/users?offset=130')).toEqual([]);
  });

  it('orders by any attribute in either direction', async () => {
    const byLoginDesc = [...users]
      .sort((a, b) => (a.login < b.login ? 1 : a.login > b.login ? -1 : 0))
      .map((u) => u.id);
    expect(await ids('/api/users?order_by=login&dir=desc&limit=10')).toEqual(byLoginDesc.slice(0, 10));
    expect(await ids('/api/users?order_by=id&dir=desc&limit=3')).toEqual([130, 129, 128]);
    const byCreated = [...users].sort((a, b) => a.createdAt - b.createdAt || a.id - b.id).map((u) => u.id);
    expect(await ids('/api/users?order_by=created_at&limit=5')).toEqual(byCreated.slice(0, 5));
  });

  it('refuses an unknown order_by attribute', async () => {
    expect((await api.get('/api/users?order_by=shoe_size')).status).toBe(400);
  });
});

describe('filter operators', () => {
  it('eq (no operator)', async () => {
    const u = users[4]!;
    expect(await ids(`/api/users?${q({ login: u.login })}`)).toEqual([u.id]);
    expect(await ids('/api/users?active=false')).toEqual(first50(idsWhere((x) => !x.active)));
  });

  it('contains / starts_with / ends_with (case-insensitive, like MySQL)', async () => {
    expect(await ids('/api/users?login[contains]=TURING')).toEqual(
      first50(idsWhere((u) => u.login.includes('turing'))),
    );
    expect(await ids('/api/users?email[starts_with]=ada.')).toEqual(
      first50(idsWhere((u) => u.email.startsWith('ada.'))),
    );
    expect(await ids('/api/users?employee_number[ends_with]=7')).toEqual(
      first50(idsWhere((u) => !!u.employeeNumber?.endsWith('7'))),
    );
    expect(idsWhere((u) => u.login.includes('turing')).length).toBeGreaterThan(0);
  });

  it('gt / lt / gt_or_eq / lt_or_eq on ids and on timestamps', async () => {
    expect(await ids('/api/users?id[gt]=120')).toEqual([121, 122, 123, 124, 125, 126, 127, 128, 129, 130]);
    expect(await ids('/api/users?id[lt]=4')).toEqual([1, 2, 3]);
    expect(await ids('/api/users?id[gt_or_eq]=128')).toEqual([128, 129, 130]);
    expect(await ids('/api/users?id[lt_or_eq]=2')).toEqual([1, 2]);
    expect(await ids('/api/users?id[gt]=10&id[lt_or_eq]=13')).toEqual([11, 12, 13]);
    const pivot = [...users].sort((a, b) => a.updatedAt - b.updatedAt)[60]!.updatedAt;
    const iso = new Date(pivot).toISOString().slice(0, 19);
    expect(await ids(`/api/users?updated_at[gt]=${iso}`)).toEqual(
      first50(idsWhere((u) => u.updatedAt > Math.floor(pivot / 1000) * 1000)),
    );
    expect(await ids(`/api/users?updated-at[lt_or_eq]=${iso}%2B00:00`)).toEqual(
      first50(idsWhere((u) => u.updatedAt <= pivot)),
    );
  });

  it('not_eq', async () => {
    expect(await ids('/api/users?active[not_eq]=true')).toEqual(first50(idsWhere((u) => !u.active)));
    expect(await ids('/api/users?id[not_eq]=1&limit=3')).toEqual([2, 3, 4]);
  });

  it('in / not_in with comma-separated lists', async () => {
    expect(await ids('/api/users?id[in]=9,3,5')).toEqual([3, 5, 9]);
    expect(await ids('/api/users?id[not_in]=1,2,3&limit=2')).toEqual([4, 5]);
    const two = [users[1]!.login, users[7]!.login];
    expect(await ids(`/api/users?${q({ 'login[in]': two.join(',') })}`)).toEqual([
      users[1]!.id,
      users[7]!.id,
    ]);
  });

  it('blank true / false', async () => {
    expect(await ids('/api/users?sso_identifier[blank]=true')).toEqual(
      first50(idsWhere((u) => u.ssoIdentifier === null)),
    );
    expect(await ids('/api/users?sso_identifier[blank]=false')).toEqual(
      first50(idsWhere((u) => u.ssoIdentifier !== null)),
    );
    expect(await ids('/api/users?type[blank]=true&limit=3')).toEqual([1, 2, 3]);
  });

  it('accepts attribute names with - or _', async () => {
    const target = users[9]!;
    const a = await ids(`/api/users?${q({ employee_number: target.employeeNumber! })}`);
    const b = await ids(`/api/users?${q({ 'employee-number': target.employeeNumber! })}`);
    expect(a).toEqual([target.id]);
    expect(b).toEqual(a);
    expect(await ids('/api/users?api_user=true')).toEqual(await ids('/api/users?api-user=true'));
  });

  it('filters through associations: roles[id], roles[name], user_groups[id], manager[login], content_groups[name]', async () => {
    expect(await ids('/api/users?roles[id]=4')).toEqual(first50(idsWhere((u) => u.roleIds.includes(4))));
    expect(await ids('/api/users?roles[name]=Admin')).toEqual(
      first50(idsWhere((u) => u.roleIds.includes(2))),
    );
    expect(await ids('/api/users?user_groups[id]=2')).toEqual(
      first50(idsWhere((u) => u.userGroupIds.includes(2))),
    );
    const mgr = users.find((u) => users.some((x) => x.managerId === u.id))!;
    expect(await ids(`/api/users?${q({ 'manager[login]': mgr.login })}`)).toEqual(
      first50(idsWhere((u) => u.managerId === mgr.id)),
    );
    const cg = s.tenant.contentGroups.get(3)!;
    expect(await ids(`/api/users?${q({ 'content_groups[name]': cg.name })}`)).toEqual(
      first50(idsWhere((u) => u.contentGroupIds.includes(3))),
    );
    expect(await ids('/api/users?roles[id][in]=2,4&active=true')).toEqual(
      first50(idsWhere((u) => u.active && (u.roleIds.includes(2) || u.roleIds.includes(4)))),
    );
  });

  it('filters on license flags', async () => {
    const bit = s.tenant.licenseFlags.indexOf('purchasing-user');
    expect(await ids('/api/users?purchasing_user=true')).toEqual(
      first50(idsWhere((u) => (u.licenses & (1 << bit)) !== 0)),
    );
  });

  it('400 for an unknown attribute or a non-numeric comparison', async () => {
    expect((await api.get('/api/users?shoe_size=9')).status).toBe(400);
    expect((await api.get('/api/users?id[gt]=abc')).status).toBe(400);
    expect((await api.get('/api/users?widgets[id]=1')).status).toBe(400);
  });

  it('JSON index with no match is 200 []', async () => {
    const res = await api.get('/api/users?login=nobody-at-all');
    expect(res.status).toBe(200);
    expect(res.json).toEqual([]);
  });
});

describe('fields and return_object', () => {
  it('projects attributes and nested associations; unknown names are ignored', async () => {
    const fields = JSON.stringify([
      'id',
      'login',
      'no_such_field',
      { roles: ['id', 'name'] },
      { manager: ['id', 'login'] },
      { user_groups: ['name'] },
    ]);
    const res = await api.get(`/api/users/3?${q({ fields })}`);
    expect(res.status).toBe(200);
    const u = users[2]!;
    expect(Object.keys(res.json).sort()).toEqual(['id', 'login', 'manager', 'roles', 'user-groups']);
    expect(res.json.roles).toEqual(u.roleIds.map((id) => ({ id, name: s.tenant.roles.get(id)!.name })));
    expect(res.json.manager).toEqual(
      u.managerId === null ? null : { id: u.managerId, login: s.tenant.users.get(u.managerId)!.login },
    );
    expect(res.json['user-groups']).toEqual(
      u.userGroupIds.map((id) => ({ name: s.tenant.userGroups.get(id)!.name })),
    );
  });

  it('projects on index too, with hyphenated names', async () => {
    const res = await api.get(`/api/users?limit=2&${q({ fields: '["id","created-at","expense_user"]' })}`);
    expect(res.json).toHaveLength(2);
    for (const row of res.json) expect(Object.keys(row).sort()).toEqual(['created-at', 'expense-user', 'id']);
  });

  it('400 when fields is not a JSON array', async () => {
    expect((await api.get(`/api/users?${q({ fields: 'id,login' })}`)).status).toBe(400);
  });

  it('return_object=limited gives ids only; shallow gives own attributes and association keys', async () => {
    const limited = await api.get('/api/users?limit=2&return_object=limited');
    expect(limited.json).toEqual([{ id: 1 }, { id: 2 }]);
    const shallow = await api.get('/api/users/1?return_object=shallow');
    expect(shallow.json.login).toBe(users[0]!.login);
    expect(shallow.json.roles).toEqual(
      users[0]!.roleIds.map((id) => ({ id, name: s.tenant.roles.get(id)!.name })),
    );
  });
});

describe('representation', () => {
  it('full user: hyphenated keys, nulls, [] associations, timestamps with offset, every license flag', async () => {
    const res = await api.get('/api/users/1');
    const u = res.json;
    for (const key of [
      'id',
      'login',
      'email',
      'fullname',
      'active',
      'api-user',
      'employee-number',
      'sso-identifier',
      'authentication-method',
      'created-at',
      'updated-at',
      'roles',
      'user-groups',
      'content-groups',
      'account-groups',
      'approval-groups',
      'manager',
      'requisition-approval-limit',
      'expense-approval-limit',
    ]) {
      expect(u, key).toHaveProperty([key]);
    }
    for (const flag of s.tenant.licenseFlags) expect(typeof u[flag], flag).toBe('boolean');
    expect(u['created-at']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$/);
    expect(u.fullname).toBe(`${users[0]!.firstname} ${users[0]!.lastname}`);
    const empty = users.find((x) => x.userGroupIds.length === 0)!;
    expect((await api.get(`/api/users/${empty.id}`)).json['user-groups']).toEqual([]);
    const approver = users.find((x) => x.userGroupIds.some((g) => s.tenant.userGroups.get(g)!.canApprove))!;
    const ag = (await api.get(`/api/users/${approver.id}`)).json['approval-groups'] as Array<{
      id: number;
      'can-approve': boolean;
    }>;
    expect(ag.length).toBeGreaterThan(0);
    expect(ag.every((g) => g['can-approve'])).toBe(true);
  });

  it('only the tenant’s license flags appear', async () => {
    await withTestSimulator(
      { tenant: { users: 3, licenseFlags: ['expense-user', 'purchasing-user'] } },
      async (s2) => {
        const a = await client(s2);
        const u = (await a.get('/api/users/1')).json;
        expect(u).toHaveProperty(['expense-user']);
        expect(u).not.toHaveProperty(['analytics-user']);
      },
    );
  });

  it('answers XML when the client does not ask for JSON', async () => {
    const res = await api.get('/api/users/5', null);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('xml');
    expect(/<login>([^<]*)<\/login>/.exec(res.text)?.[1]).toBe(users[4]!.login);
    expect(res.text).toContain('<id type="integer">5</id>');
    const list = await api.get('/api/users?limit=2', 'application/xml');
    expect(list.text).toMatch(/<users type="array">/);
    expect(list.text.match(/<user>/g)).toHaveLength(2);
  });

  it('XML index with no match is 404 with Coupa’s message', async () => {
    const res = await api.get('/api/users?login=nobody', null);
    expect(res.status).toBe(404);
    expect(res.text).toContain('<error>No results match your search criteria.</error>');
  });

  it('show of an unknown id is 404, JSON and XML', async () => {
    expect((await api.get('/api/users/999999')).status).toBe(404);
    expect((await api.get('/api/roles/999')).status).toBe(404);
    const xml = await api.get('/api/users/999999', null);
    expect(xml.status).toBe(404);
    expect(xml.text).toContain('<errors>');
  });
});

describe('other resources', () => {
  it('roles include the built-ins with Admin omnipotent', async () => {
    const res = await api.get('/api/roles');
    expect(res.json).toHaveLength(9);
    const byName = new Map(
      (res.json as Array<{ name: string; id: number; omnipotent: boolean; 'system-role': boolean }>).map(
        (r) => [r.name, r],
      ),
    );
    expect(byName.get('Admin')).toMatchObject({ id: 2, omnipotent: true, 'system-role': true });
    expect(byName.get('User')).toMatchObject({ id: 3, omnipotent: false, 'system-role': true });
    expect(byName.get('Buyer')).toMatchObject({ id: 4, 'system-role': true });
  });

  it('user groups list their members and filter like users', async () => {
    const g = (await api.get('/api/user_groups/2')).json;
    expect((g.users as Array<{ id: number }>).map((u) => u.id)).toEqual(
      idsWhere((u) => u.userGroupIds.includes(2)),
    );
    expect(typeof g['can-approve']).toBe('boolean');
    const approvers = await api.get('/api/user_groups?can_approve=true');
    expect((approvers.json as Array<{ id: number }>).map((x) => x.id)).toEqual(
      s.tenant.userGroups.list.filter((x) => x.canApprove).map((x) => x.id),
    );
  });

  it('business groups and account groups page and show', async () => {
    expect(await ids('/api/business_groups')).toEqual([1, 2, 3, 4, 5]);
    expect(await ids('/api/account_groups?id[gt]=2')).toEqual([3, 4]);
    expect((await api.get('/api/account_groups/1')).json).toMatchObject({
      id: 1,
      name: s.tenant.accountGroups.get(1)!.name,
    });
  });
});

describe('ground truth and shuffled order', () => {
  it('paging through the API yields exactly the ground truth', async () => {
    const gt = s.groundTruth();
    const seen: Array<
      {
        id: number;
        login: string;
        roles: Array<{ id: number }>;
        'user-groups': Array<{ id: number }>;
      } & Record<string, unknown>
    > = [];
    const fields = JSON.stringify([
      'id',
      'login',
      'email',
      'active',
      ...s.tenant.licenseFlags,
      { roles: ['id'] },
      { user_groups: ['id'] },
      { content_groups: ['id'] },
      { account_groups: ['id'] },
    ]);
    let last = 0;
    for (;;) {
      const page = (await api.get(`/api/users?${q({ 'id[gt]': String(last), fields })}`)).json as typeof seen;
      if (page.length === 0) break;
      seen.push(...page);
      last = page[page.length - 1]!.id;
    }
    expect(seen.map((u) => ({ id: u.id, login: u.login }))).toEqual(
      gt.users.map((u) => ({ id: u.id, login: u.login })),
    );
    const pairs = (key: string) =>
      seen.flatMap((u) => (u[key] as Array<{ id: number }>).map((x) => [u.id, x.id]));
    expect(pairs('roles')).toEqual(gt.memberships.roles);
    expect(pairs('user-groups')).toEqual(gt.memberships.userGroups);
    expect(pairs('content-groups')).toEqual(gt.memberships.contentGroups);
    expect(pairs('account-groups')).toEqual(gt.memberships.accountGroups);
    const licenses = seen.flatMap((u) =>
      s.tenant.licenseFlags.filter((f) => u[f] === true).map((f) => [u.id, f]),
    );
    expect(licenses).toEqual(gt.memberships.licenses);
    const admin = (await fetch(`${s.url}/__sim/ground-truth`).then((r) => r.json())) as typeof gt;
    expect(admin).toEqual(gt);
  });

  it('defaultOrder shuffled: pages are not id-sorted but offset paging still covers everyone once', async () => {
    await withTestSimulator({ tenant: { users: 120, seed: 3 }, defaultOrder: 'shuffled' }, async (s2) => {
      const a = await client(s2);
      const all: number[] = [];
      for (let offset = 0; ; offset += 50) {
        const page = (await a.get(`/api/users?offset=${offset}&return_object=limited`)).json as Array<{
          id: number;
        }>;
        all.push(...page.map((u) => u.id));
        if (page.length < 50) break;
      }
      expect(all).not.toEqual([...all].sort((x, y) => x - y));
      expect([...all].sort((x, y) => x - y)).toEqual(Array.from({ length: 120 }, (_, i) => i + 1));
      expect(
        ((await a.get('/api/users?order_by=id&limit=3')).json as Array<{ id: number }>).map((u) => u.id),
      ).toEqual([1, 2, 3]);
    });
  });
});
