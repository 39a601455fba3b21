import { newWalkStats } from '../../src/coupa/paginate.js';
import { afterEach, describe, expect, it } from 'vitest';
import {
  AccountGroupSchema,
  ContentGroupSchema,
  CoupaAuthError,
  CoupaClient,
  CoupaForbiddenError,
  CoupaResponseFormatError,
  LICENSE_FLAGS,
  READ_SCOPES,
  RoleSchema,
  UserGroupSchema,
  UserSchema,
  type CoupaClientOptions,
} from '../../src/coupa/index.js';
import { userFields } from '../../src/connector/reads.js';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../src/simulator/index.js';
import { caught, unexpected } from './helpers/fake-coupa.js';
import { testClient } from '../helpers/client.js';

/** What a sync asks for on /api/users (the sync's own list, so the two cannot drift apart). */
const USER_FIELDS = userFields();

let sim: Simulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

async function start(opts: SimulatorOptions): Promise<Simulator> {
  sim = await startSimulator(opts);
  return sim;
}

function clientFor(s: Simulator, extra: Partial<CoupaClientOptions> = {}): CoupaClient {
  return testClient(s, { retry: { baseDelayMs: 5 } }, extra);
}

async function allUsers(c: CoupaClient, walk = newWalkStats()) {
  const users = [];
  for await (const page of c.paginate('/api/users', {
    itemSchema: UserSchema,
    fields: USER_FIELDS,
    stats: walk,
  }))
    users.push(...page);
  return users;
}

describe('against the simulator', () => {
  it('reads every user with its memberships, at token + ceil(U/50) pages (probe included)', async () => {
    const s = await start({ tenant: { users: 120, seed: 7 }, rateLimit: false });
    const c = clientFor(s);
    const users = await allUsers(c);
    const truth = s.groundTruth();
    expect(users.map((u) => u.id).sort((a, b) => a - b)).toEqual(
      truth.users.map((u) => u.id).sort((a, b) => a - b),
    );
    const roleGrants = users.flatMap((u) => (u.roles ?? []).map((r) => `${u.id}:${r.id}`)).sort();
    expect(roleGrants).toEqual(truth.memberships.roles.map(([u, r]) => `${u}:${r}`).sort());
    const licences = users
      .flatMap((u) => LICENSE_FLAGS.filter((f) => u[f] === true).map((f) => `${u.id}:${f}`))
      .sort();
    expect(licences).toEqual(truth.memberships.licenses.map(([u, f]) => `${u}:${f}`).sort());
    // The probe holds ranks 51..100 from the top (70..21), one bounded page below it (1..20), and
    // the top (120..71) read last.
    // The top page, the bottom one below it, the rest, and the look above the top.
    expect(s.counters().total).toBeLessThanOrEqual(1 + Math.ceil(120 / 50) + 2);
    expect(c.stats()).toMatchObject({ requests: s.counters().total, retries: 0, tokenRequests: 1 });
  });

  it('the other lists validate with their schemas', async () => {
    const s = await start({
      tenant: { users: 10, userGroups: 60, roles: 8, contentGroups: 5, accountGroups: 4 },
      rateLimit: false,
    });
    const c = clientFor(s);
    const count = async (
      path: string,
      itemSchema:
        typeof RoleSchema | typeof UserGroupSchema | typeof ContentGroupSchema | typeof AccountGroupSchema,
    ) => {
      let n = 0;
      for await (const page of c.paginate(path, { itemSchema })) n += page.length;
      return n;
    };
    const truth = s.groundTruth();
    expect(await count('/api/user_groups', UserGroupSchema)).toBe(truth.userGroups.length);
    expect(await count('/api/roles', RoleSchema)).toBe(truth.roles.length);
    expect(await count('/api/business_groups', ContentGroupSchema)).toBe(truth.contentGroups.length);
    expect(await count('/api/account_groups', AccountGroupSchema)).toBe(truth.accountGroups.length);
    // Users without a fields projection: the full objects validate too.
    let n = 0;
    for await (const page of c.paginate('/api/users', { itemSchema: UserSchema })) n += page.length;
    expect(n).toBe(10);
  });

  it('default rate limit against the 25/s burst-20 bucket: no 429 with 5 lanes', async () => {
    const s = await start({
      tenant: { users: 2500, userGroups: 2, roles: 4, contentGroups: 1, accountGroups: 1 },
      latencyMs: 100,
    });
    const c = clientFor(s, { rateLimit: undefined });
    const users = await allUsers(c);
    expect(users).toHaveLength(2500);
    expect(s.counters().byStatus['429'] ?? 0).toBe(0);
    expect(c.stats().throttled).toBe(0);
    const requests = c.stats().requests;
    expect(requests).toBeLessThanOrEqual(1 + 1 + 50 + 1);
    // How close this runs to 25 req/s is a benchmark figure (npm run bench), not a test.
  });

  it('faults (10% 429, 5% 503, 2% resets, slow answers past the timeout) cost retries, not users', async () => {
    const s = await start({
      tenant: { users: 2000, seed: 3 },
      rateLimit: false,
      faults: [
        {
          match: { path: '/api/users' },
          probability: 0.1,
          kind: 'status',
          status: 429,
          retryAfterSeconds: 0,
        },
        { match: { path: '/api/users' }, probability: 0.05, kind: 'status', status: 503 },
        { match: { path: '/api/users' }, probability: 0.02, kind: 'reset' },
        { match: { path: '/api/users' }, probability: 0.03, kind: 'delay', ms: 400 },
      ],
    });
    const c = clientFor(s, { timeoutMs: 250, retry: { limit: 10 } });
    const walk = newWalkStats();
    const users = await allUsers(c, walk);
    expect(users.map((u) => u.id).sort((a, b) => a - b)).toEqual(
      s
        .groundTruth()
        .users.map((u) => u.id)
        .sort((a, b) => a - b),
    );
    expect(new Set(users.map((u) => u.id)).size).toBe(2000);
    // ~45 page requests at a ~20% fault rate: no retry at all would mean the faults never fired.
    const stats = c.stats();
    expect(stats.retries).toBeGreaterThan(0);
    // The token and the walk's pages; the rest are retries.
    expect(walk.requests).toBeLessThanOrEqual(Math.ceil(2000 / 50) + 3);
    expect(stats.retries).toBe(stats.requests - (1 + walk.requests) - (stats.tokenRequests - 1));
  });

  it('a token revoked mid-sync is renewed once and the walk goes on', async () => {
    const s = await start({
      tenant: { users: 300 },
      rateLimit: false,
      faults: [{ match: { path: '/api/users' }, onRequests: [3], kind: 'revoke-token' }],
    });
    const c = clientFor(s);
    expect(await allUsers(c)).toHaveLength(300);
    expect(c.stats().tokenRequests).toBe(2);
  });

  it('expired tokens are renewed', async () => {
    const s = await start({ tenant: { users: 60 }, rateLimit: false });
    const c = clientFor(s);
    expect(await allUsers(c)).toHaveLength(60);
    s.expireTokens();
    expect(await allUsers(c)).toHaveLength(60);
    expect(c.stats().tokenRequests).toBe(2);
  });

  it('a wrong secret is a CoupaAuthError', async () => {
    const s = await start({ tenant: { users: 5 }, rateLimit: false });
    const c = testClient({ ...s, clientSecret: 'not-the-secret' }, { scopes: READ_SCOPES });
    const err = await c.get('/api/roles', { schema: RoleSchema.array() }).then(unexpected, caught);
    expect(err).toBeInstanceOf(CoupaAuthError);
    expect(err.message).toContain('invalid_client');
  });

  it('a missing scope: 403 → CoupaForbiddenError naming it, 401 → CoupaAuthError naming it', async () => {
    for (const status of [403, 401] as const) {
      const s = await start({
        tenant: { users: 5 },
        rateLimit: false,
        allowedScopes: READ_SCOPES,
        missingScopeStatus: status,
      });
      const c = clientFor(s, { scopes: READ_SCOPES });
      const err = await c
        .get('/api/account_groups', { schema: AccountGroupSchema.array() })
        .then(unexpected, caught);
      expect(err).toBeInstanceOf(status === 403 ? CoupaForbiddenError : CoupaAuthError);
      expect(err.scope).toBe('core.accounting.read');
      expect(err.hint).toMatch(
        /^Coupa did not grant the core\.accounting\.read scope to this client; add it/,
      );
      await s.close();
      sim = undefined;
    }
  });

  it.each(['html-200', 'xml', 'malformed-json'] as const)(
    '%s from the simulator is a CoupaResponseFormatError',
    async (kind) => {
      const s = await start({
        tenant: { users: 5 },
        rateLimit: false,
        faults: [{ match: { path: '/api/users' }, kind }],
      });
      const err = await allUsers(clientFor(s)).then(unexpected, caught);
      expect(err).toBeInstanceOf(CoupaResponseFormatError);
      expect(err.endpoint).toBe('GET /api/users (top)');
    },
  );
});
