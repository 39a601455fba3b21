import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  CoupaAuthError,
  CoupaClient,
  CoupaForbiddenError,
  type CoupaClientOptions,
} from '../../src/coupa/index.js';
import { ExitCode } from '../../src/errors.js';
import {
  bearer,
  json,
  startFake,
  type FakeServer,
  caught,
  unexpected,
  fakeClient,
} from './helpers/fake-coupa.js';

const Any = z.unknown();
let fake: (FakeServer & { issuedTokens: string[] }) | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

function client(url: string, extra: Partial<CoupaClientOptions> = {}): CoupaClient {
  return fakeClient(url, { retry: { baseDelayMs: 1 }, ...extra });
}

describe('OAuth2 client credentials', () => {
  it('posts a client-credentials form with the scopes, then sends the token as a bearer', async () => {
    fake = await startFake({ api: (req, res) => json(res, 200, { id: 1, seen: bearer(req) }) });
    const c = client(fake.url, { scopes: ['core.user.read', 'openid'] });
    const got = await c.get('/api/users/1', { schema: z.object({ id: z.number(), seen: z.string() }) });
    const [tokenReq] = fake.tokenRequests();
    expect(tokenReq?.method).toBe('POST');
    expect(tokenReq?.headers['content-type']).toBe('application/x-www-form-urlencoded');
    const form = new URLSearchParams(tokenReq?.body);
    expect(form.get('grant_type')).toBe('client_credentials');
    expect(form.get('scope')).toBe('core.user.read openid');
    expect(got.seen).toBe(fake.issuedTokens[0]);
    expect(fake.apiRequests()[0]?.headers.accept).toBe('application/json');
    expect(c.grantedScopes).toEqual(new Set(['core.user.read', 'openid']));
  });

  it('caches the token: one token request for many calls', async () => {
    fake = await startFake({ api: (_req, res) => json(res, 200, {}) });
    const c = client(fake.url);
    for (let i = 0; i < 5; i++) await c.get('/api/roles/1', { schema: Any });
    await Promise.all(Array.from({ length: 10 }, () => c.get('/api/roles/1', { schema: Any })));
    expect(fake.tokenRequests()).toHaveLength(1);
    expect(c.stats().tokenRequests).toBe(1);
    expect(c.stats().requests).toBe(16);
  });

  it('single-flight: concurrent first calls share one token request', async () => {
    fake = await startFake({
      token: async (req, res) => {
        await new Promise((r) => setTimeout(r, 100));
        json(res, 200, { access_token: `slow-token-${fake!.tokenRequests().length}`, expires_in: 86400 });
      },
      api: (_req, res) => json(res, 200, {}),
    });
    const c = client(fake.url);
    await Promise.all(Array.from({ length: 8 }, () => c.get('/api/roles', { schema: Any })));
    expect(fake.tokenRequests()).toHaveLength(1);
    expect(new Set(fake.apiRequests().map(bearer))).toEqual(new Set(['slow-token-1']));
  });

  it('renews the token before it expires', async () => {
    fake = await startFake({ tokenLifetimeS: 2, api: (_req, res) => json(res, 200, {}) });
    const c = client(fake.url, { tokenRenewBeforeSeconds: 1 });
    await c.get('/api/roles', { schema: Any });
    await c.get('/api/roles', { schema: Any });
    expect(fake.tokenRequests()).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 1100));
    await c.get('/api/roles', { schema: Any });
    expect(fake.tokenRequests()).toHaveLength(2);
    expect(bearer(fake.apiRequests()[2]!)).toBe(fake.issuedTokens[1]);
  });

  it('renews once on a 401 and goes on with the new token', async () => {
    fake = await startFake({
      api: (req, res) => {
        // Only the second token is accepted: the first one was "revoked".
        if (bearer(req) === fake!.issuedTokens[0]) return json(res, 401, { errors: ['invalid token'] });
        json(res, 200, { ok: true });
      },
    });
    const c = client(fake.url);
    await expect(c.get('/api/users', { schema: z.object({ ok: z.boolean() }) })).resolves.toEqual({
      ok: true,
    });
    expect(fake.tokenRequests()).toHaveLength(2);
    expect(fake.apiRequests()).toHaveLength(2);
  });

  it('a burst of 401s from concurrent requests costs one renewal', async () => {
    fake = await startFake({
      api: (req, res) => {
        if (bearer(req) === fake!.issuedTokens[0]) return json(res, 401, {});
        json(res, 200, {});
      },
    });
    const c = client(fake.url);
    await c.get('/api/roles', { schema: Any });
    expect(fake.tokenRequests()).toHaveLength(2);
    await Promise.all(Array.from({ length: 6 }, () => c.get('/api/roles', { schema: Any })));
    expect(fake.tokenRequests()).toHaveLength(2);
  });

  it('survives revocations close together: a fresh token revoked before any call used it is renewed again', async () => {
    let calls = 0;
    fake = await startFake({
      api: (req, res) => {
        calls++;
        const t = fake!.issuedTokens.indexOf(bearer(req) ?? '');
        // Token 0 works once, then is revoked; token 1 is revoked before its first call lands.
        if ((t === 0 && calls > 1) || t === 1) return json(res, 401, {});
        json(res, 200, { token: t });
      },
    });
    const c = client(fake.url);
    const Token = z.object({ token: z.number() });
    await expect(c.get('/api/users', { schema: Token })).resolves.toEqual({ token: 0 });
    await expect(c.get('/api/users', { schema: Token })).resolves.toEqual({ token: 2 });
    expect(fake.tokenRequests()).toHaveLength(3);
  });

  it('a call Coupa refuses whatever the token, while other calls succeed, gives up', async () => {
    // Tokens other calls have been answered with: each one Coupa has accepted.
    const proven = new Set<string>();
    fake = await startFake({
      api: async (req, res) => {
        const token = bearer(req) ?? '';
        if (!req.url.pathname.startsWith('/api/account_groups')) {
          json(res, 200, {});
          proven.add(token);
          return;
        }
        // Refused only once another call has proven the token, so no two fresh tokens are ever
        // refused in a row: only the per-call bound can end this call.
        while (!proven.has(token)) await new Promise((r) => setTimeout(r, 2));
        json(res, 401, {});
      },
    });
    const c = client(fake.url);
    await c.get('/api/users', { schema: Any });
    let settled = false;
    const refused = c
      .get('/api/account_groups', { schema: Any })
      .then(unexpected, caught)
      .finally(() => (settled = true));
    // Other calls keep going, so each renewed token is used (and accepted) elsewhere first.
    while (!settled) await c.get('/api/users', { schema: Any });
    const err = await refused;
    expect(err).toBeInstanceOf(CoupaAuthError);
    expect(err.scope).toBe('core.accounting.read');
    expect(err.message).toMatch(/refused 5 access tokens in a row/);
    const refusedCalls = fake.apiRequests().filter((r) => r.url.pathname.startsWith('/api/account_groups'));
    expect(refusedCalls).toHaveLength(5);
    expect(fake.tokenRequests()).toHaveLength(5);
  });

  it('a second 401 is a CoupaAuthError naming the call and the scope it probably needs', async () => {
    fake = await startFake({ api: (_req, res) => json(res, 401, {}) });
    const c = client(fake.url);
    const err = await c
      .get('/api/account_groups', { query: { secret_looking: 'v' }, schema: Any })
      .then(unexpected, caught);
    expect(err).toBeInstanceOf(CoupaAuthError);
    expect(err.exitCode).toBe(ExitCode.auth);
    expect(err.message).toContain('GET /api/account_groups');
    expect(err.message).not.toContain('secret_looking');
    expect(err.scope).toBe('core.accounting.read');
    expect(err.hint).toContain('core.accounting.read');
    expect(fake.tokenRequests()).toHaveLength(2);
    expect(fake.apiRequests()).toHaveLength(2);
  });

  it('403 is a CoupaForbiddenError with the likely scope, not retried', async () => {
    fake = await startFake({ api: (_req, res) => json(res, 403, {}) });
    const c = client(fake.url);
    const err = await c.put('/api/users/7', { active: false }, { schema: Any }).then(unexpected, caught);
    expect(err).toBeInstanceOf(CoupaForbiddenError);
    expect(err.scope).toBe('core.user.write');
    expect(err.message).toContain('PUT /api/users/7');
    expect(fake.apiRequests()).toHaveLength(1);
  });

  it('invalid_client: an actionable CoupaAuthError that never shows the secret', async () => {
    fake = await startFake({});
    const c = fakeClient(fake.url, { clientSecret: 'wrong-secret-value-42' });
    const err = await c.get('/api/users', { schema: Any }).then(unexpected, caught);
    expect(err).toBeInstanceOf(CoupaAuthError);
    expect(err.exitCode).toBe(ExitCode.auth);
    expect(err.message).toBe(
      `Coupa rejected the client id/secret at ${fake.url}/oauth2/token (invalid_client).`,
    );
    expect(err.hint).toContain('--coupa-client-id and --coupa-client-secret');
    expect(`${err.message} ${err.hint}`).not.toContain('wrong-secret-value-42');
    // Credentials are wrong, not flaky: exactly one token request, no API call.
    expect(fake.requests).toHaveLength(1);
  });

  it('invalid_scope names the scopes to add', async () => {
    fake = await startFake({ token: (_req, res) => json(res, 400, { error: 'invalid_scope' }) });
    const c = client(fake.url, { scopes: ['core.user.read', 'core.accounting.read'] });
    const err = await c.get('/api/users', { schema: Any }).then(unexpected, caught);
    expect(err).toBeInstanceOf(CoupaAuthError);
    expect(err.message).toContain('invalid_scope');
    expect(err.message).toContain('core.accounting.read');
  });

  it('gives up an optional scope Coupa refuses, once, and keeps asking without it', async () => {
    const asked: string[] = [];
    let issued = 0;
    let calls = 0;
    fake = await startFake({
      token: (req, res) => {
        const scope = new URLSearchParams(req.body).get('scope') ?? '';
        asked.push(scope);
        if (scope.includes('core.accounting.read')) return json(res, 400, { error: 'invalid_scope' });
        json(res, 200, { access_token: `token-${++issued}` });
      },
      // The second call is refused once (401), so that the client renews its token.
      api: (req, res) => (++calls === 2 ? json(res, 401, {}) : json(res, 200, { token: bearer(req) })),
    });
    const c = client(fake.url, { scopes: ['core.user.read'], optionalScopes: ['core.accounting.read'] });
    const Token = z.object({ token: z.string() });
    expect(await c.get('/api/users/1', { schema: Token })).toEqual({ token: 'token-1' });
    expect(await c.get('/api/users/1', { schema: Token })).toEqual({ token: 'token-2' });
    expect(asked).toEqual(['core.user.read core.accounting.read', 'core.user.read', 'core.user.read']);
  });

  it('asks for optional scopes along with the others when Coupa grants them', async () => {
    const asked: string[] = [];
    fake = await startFake({
      token: (req, res) => {
        asked.push(new URLSearchParams(req.body).get('scope') ?? '');
        json(res, 200, { access_token: 'all-scopes' });
      },
      api: (_req, res) => json(res, 200, {}),
    });
    const c = client(fake.url, { scopes: ['core.user.read'], optionalScopes: ['core.accounting.read'] });
    await c.get('/api/account_groups', { schema: Any });
    expect(asked).toEqual(['core.user.read core.accounting.read']);
  });

  it('retries the token request on 503', async () => {
    let n = 0;
    fake = await startFake({
      token: (_req, res) =>
        n++ < 2 ? json(res, 503, {}) : json(res, 200, { access_token: 'third-time-token' }),
      api: (req, res) => json(res, 200, { token: bearer(req) }),
    });
    const c = client(fake.url);
    await expect(c.get('/api/users/1', { schema: z.object({ token: z.string() }) })).resolves.toEqual({
      token: 'third-time-token',
    });
    expect(c.stats().retries).toBe(2);
    expect(c.stats().tokenRequests).toBe(1);
  });
});
