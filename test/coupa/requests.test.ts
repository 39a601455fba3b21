import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { CoupaClient, READ_SCOPES, UserSchema, WRITE_SCOPES } from '../../src/coupa/index.js';
import { json, startFake, type FakeServer, fakeClient } from './helpers/fake-coupa.js';

let fake: FakeServer | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

function client(baseUrl: string): CoupaClient {
  return fakeClient(baseUrl, { scopes: [...READ_SCOPES, ...WRITE_SCOPES] });
}

describe('request shapes', () => {
  it('PUT sends a JSON body and the fields projection, and validates the answer', async () => {
    fake = await startFake({
      api: (req, res) => json(res, 200, { id: 7, login: 'ann', ...JSON.parse(req.body) }),
    });
    const user = await client(fake.url).put(
      '/api/users/7',
      { roles: [{ id: 3 }] },
      { fields: ['id', 'login', { roles: ['id', 'name'] }], schema: UserSchema },
    );
    expect(user.roles).toEqual([{ id: 3 }]);
    const [req] = fake.apiRequests();
    expect(req?.method).toBe('PUT');
    expect(req?.headers['content-type']).toBe('application/json');
    expect(req?.headers.accept).toBe('application/json');
    expect(JSON.parse(req!.body)).toEqual({ roles: [{ id: 3 }] });
    expect(JSON.parse(req!.url.searchParams.get('fields')!)).toEqual([
      'id',
      'login',
      { roles: ['id', 'name'] },
    ]);
  });

  it('POST accepts 201; GET sends filters with brackets; DELETE accepts an empty 204', async () => {
    fake = await startFake({
      api: (req, res) => {
        if (req.method === 'POST') return json(res, 201, { id: 99, login: 'new' });
        if (req.method === 'DELETE') {
          res.writeHead(204);
          res.end();
          return;
        }
        json(res, 200, [{ id: 1, login: 'a' }]);
      },
    });
    const c = client(fake.url);
    expect(await c.post('/api/users', { login: 'new' }, { schema: UserSchema })).toMatchObject({ id: 99 });
    expect(
      await c.get('/api/users', {
        query: { 'updated_at[gt]': '2024-01-01T00:00:00', 'roles[id]': '3' },
        schema: z.array(UserSchema),
      }),
    ).toHaveLength(1);
    await expect(c.delete('/api/user_group_memberships/5')).resolves.toBeUndefined();
    const get = fake.apiRequests().find((r) => r.method === 'GET')!;
    expect(get.url.searchParams.get('updated_at[gt]')).toBe('2024-01-01T00:00:00');
    expect(get.url.searchParams.get('roles[id]')).toBe('3');
    expect(get.headers['content-type']).toBeUndefined();
  });

  it('a base URL with a path prefix (a proxy) is kept for the token and the API', async () => {
    fake = await startFake({
      // The fake's own token route is /oauth2/token; the prefixed one lands here.
      api: (req, res) => {
        if (req.url.pathname === '/coupa/oauth2/token')
          return json(res, 200, { access_token: 'prefixed-token' });
        json(res, req.url.pathname === '/coupa/api/roles' ? 200 : 404, []);
      },
    });
    await expect(
      client(`${fake.url}/coupa`).get('/api/roles', { schema: z.array(z.unknown()) }),
    ).resolves.toEqual([]);
    expect(fake.requests.map((r) => r.url.pathname)).toEqual(['/coupa/oauth2/token', '/coupa/api/roles']);
  });
});
