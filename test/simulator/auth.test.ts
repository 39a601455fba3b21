import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from '../../src/simulator/index.js';
import { call, TENANT } from './helpers.js';
import { testSimulator, simulatorToken, withTestSimulator } from '../helpers/simulator.js';

function form(params: Record<string, string>): URLSearchParams {
  return new URLSearchParams(params);
}

describe('OAuth2 token endpoint', () => {
  let s: Simulator;
  beforeAll(async () => {
    s = await testSimulator({
      allowedScopes: ['core.user.read', 'core.common.read', 'core.accounting.read', 'openid'],
    });
  });
  afterAll(() => s.close());

  it('issues a bearer token for credentials in the form body', async () => {
    const res = await fetch(`${s.url}/oauth2/token`, {
      method: 'POST',
      body: form({
        grant_type: 'client_credentials',
        client_id: s.clientId,
        client_secret: s.clientSecret,
        scope: 'core.user.read',
      }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body['token_type']).toBe('bearer');
    expect(body['expires_in']).toBe(86400);
    expect(body['scope']).toBe('core.user.read');
    expect(typeof body['access_token']).toBe('string');
    const users = await call(s, body['access_token'] as string, 'GET', '/api/users?limit=1');
    expect(users.status).toBe(200);
  });

  it('accepts credentials as HTTP Basic (what baton-coupa sends)', async () => {
    const basic = Buffer.from(
      `${encodeURIComponent(s.clientId)}:${encodeURIComponent(s.clientSecret)}`,
    ).toString('base64');
    const res = await fetch(`${s.url}/oauth2/token`, {
      method: 'POST',
      headers: { Authorization: `Basic ${basic}` },
      body: form({ grant_type: 'client_credentials', scope: 'core.user.read core.common.read' }),
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { scope: string }).scope).toBe('core.user.read core.common.read');
  });

  it('answers 400 invalid_client for a wrong secret, in the body or in Basic', async () => {
    const bodyRes = await fetch(`${s.url}/oauth2/token`, {
      method: 'POST',
      body: form({ grant_type: 'client_credentials', client_id: s.clientId, client_secret: 'wrong-secret' }),
    });
    expect(bodyRes.status).toBe(400);
    expect(await bodyRes.json()).toMatchObject({ error: 'invalid_client' });
    const basicRes = await fetch(`${s.url}/oauth2/token`, {
      method: 'POST',
      headers: { Authorization: `Basic ${Buffer.from(`${s.clientId}:nope`).toString('base64')}` },
      body: form({ grant_type: 'client_credentials' }),
    });
    expect(basicRes.status).toBe(400);
    expect(await basicRes.json()).toMatchObject({ error: 'invalid_client' });
  });

  it('rejects other grant types', async () => {
    const res = await fetch(`${s.url}/oauth2/token`, {
      method: 'POST',
      body: form({ grant_type: 'password', client_id: s.clientId, client_secret: s.clientSecret }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: 'unsupported_grant_type' });
  });

  it('rejects a scope the client was not created with (400 invalid_scope)', async () => {
    const res = await fetch(`${s.url}/oauth2/token`, {
      method: 'POST',
      body: form({
        grant_type: 'client_credentials',
        client_id: s.clientId,
        client_secret: s.clientSecret,
        scope: 'core.user.read core.user.write',
      }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: 'invalid_scope' });
  });

  it('grants every allowed scope when none is requested', async () => {
    const res = await fetch(`${s.url}/oauth2/token`, {
      method: 'POST',
      body: form({ grant_type: 'client_credentials', client_id: s.clientId, client_secret: s.clientSecret }),
    });
    expect(((await res.json()) as { scope: string }).scope.split(' ').sort()).toEqual(
      ['core.accounting.read', 'core.common.read', 'core.user.read', 'openid'].sort(),
    );
  });
});

describe('scope enforcement', () => {
  let s: Simulator;
  beforeAll(async () => {
    s = await testSimulator({ tenant: TENANT });
  });
  afterAll(() => s.close());

  it('answers 403 on account groups to a token without core.accounting.read, 200 with it', async () => {
    const without = await simulatorToken(s, 'core.user.read core.common.read core.user_group.read');
    expect((await call(s, without, 'GET', '/api/account_groups')).status).toBe(403);
    expect((await call(s, without, 'GET', '/api/users?limit=1')).status).toBe(200);
    expect((await call(s, without, 'GET', '/api/roles')).status).toBe(200);
    expect((await call(s, without, 'GET', '/api/business_groups')).status).toBe(200);
    expect((await call(s, without, 'GET', '/api/user_groups')).status).toBe(200);
    const withIt = await simulatorToken(s, 'core.accounting.read');
    expect((await call(s, withIt, 'GET', '/api/account_groups')).status).toBe(200);
  });

  it('maps each resource to its scope family (read vs write)', async () => {
    const readOnly = await simulatorToken(s, 'core.user.read');
    expect((await call(s, readOnly, 'GET', '/api/roles')).status).toBe(403);
    expect((await call(s, readOnly, 'GET', '/api/user_groups')).status).toBe(403);
    expect((await call(s, readOnly, 'GET', '/api/user_group_memberships')).status).toBe(403);
    const before = JSON.stringify(s.tenant.users.get(1));
    expect(
      (await call(s, readOnly, 'PUT', '/api/users/1', { body: { active: !s.tenant.users.get(1)!.active } }))
        .status,
    ).toBe(403);
    expect(JSON.stringify(s.tenant.users.get(1))).toBe(before);
    const write = await simulatorToken(s, 'core.user.write');
    expect((await call(s, write, 'GET', '/api/users/1')).status).toBe(403);
    expect((await call(s, write, 'PUT', '/api/users/1', { body: { 'default-locale': 'fr' } })).status).toBe(
      200,
    );
  });

  it('can answer 401 instead of 403 on a missing scope', async () => {
    await withTestSimulator({ tenant: TENANT, missingScopeStatus: 401 }, async (s401) => {
      const t = await simulatorToken(s401, 'core.user.read');
      expect((await call(s401, t, 'GET', '/api/account_groups')).status).toBe(401);
    });
  });

  it('intersects instead of rejecting when configured to', async () => {
    await withTestSimulator(
      { tenant: TENANT, allowedScopes: ['core.user.read'], scopeMismatch: 'intersect' },
      async (s2) => {
        const res = await fetch(`${s2.url}/oauth2/token`, {
          method: 'POST',
          body: form({
            grant_type: 'client_credentials',
            client_id: s2.clientId,
            client_secret: s2.clientSecret,
            scope: 'core.user.read core.accounting.read',
          }),
        });
        const body = (await res.json()) as { scope: string; access_token: string };
        expect(body.scope).toBe('core.user.read');
        expect((await call(s2, body.access_token, 'GET', '/api/account_groups')).status).toBe(403);
      },
    );
  });
});

describe('bearer tokens', () => {
  it('401 for an unknown token and for no token at all', async () => {
    await withTestSimulator({ tenant: TENANT }, async (s) => {
      expect((await call(s, 'not-a-token', 'GET', '/api/users')).status).toBe(401);
      const res = await fetch(`${s.url}/api/users`, { headers: { Accept: 'application/json' } });
      expect(res.status).toBe(401);
    });
  });

  it('401 after the token lifetime elapses', async () => {
    await withTestSimulator({ tenant: TENANT, tokenTtlSeconds: 1 }, async (s) => {
      const t = await simulatorToken(s);
      expect((await call(s, t, 'GET', '/api/users?limit=1')).status).toBe(200);
      await new Promise((r) => setTimeout(r, 1100));
      const res = await call(s, t, 'GET', '/api/users?limit=1');
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toContain('invalid_token');
      const fresh = await simulatorToken(s);
      expect((await call(s, fresh, 'GET', '/api/users?limit=1')).status).toBe(200);
    });
  });

  it('expireTokens(), revokeTokens() and the admin route invalidate every issued token', async () => {
    await withTestSimulator({ tenant: TENANT }, async (s) => {
      const a = await simulatorToken(s);
      s.expireTokens();
      expect((await call(s, a, 'GET', '/api/users?limit=1')).status).toBe(401);
      const b = await simulatorToken(s);
      expect((await call(s, b, 'GET', '/api/users?limit=1')).status).toBe(200);
      s.revokeTokens();
      expect((await call(s, b, 'GET', '/api/users?limit=1')).status).toBe(401);
      const c = await simulatorToken(s);
      expect((await fetch(`${s.url}/__sim/revoke-tokens`, { method: 'POST' })).status).toBe(200);
      expect((await call(s, c, 'GET', '/api/users?limit=1')).status).toBe(401);
    });
  });
});

describe('legacy X-COUPA-API-KEY', () => {
  it('is refused unless configured, then works with every scope', async () => {
    await withTestSimulator({ tenant: TENANT }, async (off) => {
      const res = await fetch(`${off.url}/api/users`, {
        headers: { 'X-COUPA-API-KEY': 'k'.repeat(40), Accept: 'application/json' },
      });
      expect(res.status).toBe(401);
    });
    await withTestSimulator({ tenant: TENANT, legacyApiKey: 'k'.repeat(40) }, async (on) => {
      const ok = await fetch(`${on.url}/api/account_groups`, {
        headers: { 'X-COUPA-API-KEY': 'k'.repeat(40), Accept: 'application/json' },
      });
      expect(ok.status).toBe(200);
      const wrong = await fetch(`${on.url}/api/users`, {
        headers: { 'X-COUPA-API-KEY': 'x'.repeat(40), Accept: 'application/json' },
      });
      expect(wrong.status).toBe(401);
    });
  });
});
