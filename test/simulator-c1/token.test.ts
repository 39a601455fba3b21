import { describe, expect, it } from 'vitest';
import { generateCredentials } from '../../src/simulator/c1/index.js';
import {
  batonAssertionParts,
  postToken,
  signAssertion,
  tokenForm,
  useFakeC1,
  type AssertionParts,
} from './helpers.js';

const now = () => Math.floor(Date.now() / 1000);

describe('fake ConductorOne token endpoint', () => {
  it('issues a bearer token for an assertion shaped as baton v0.2.58 makes it (aud array)', async () => {
    const fake = await useFakeC1();
    const parts = batonAssertionParts(fake.clientId);
    const res = await postToken(fake, tokenForm(fake.clientId, signAssertion(fake.clientSecret, parts)));
    expect(res.status).toBe(200);
    expect(res.json.token_type).toBe('Bearer');
    expect(typeof res.json.access_token).toBe('string');
    expect(res.json.expires_in).toBe(3600);
    expect(fake.records.tokenRequests.at(-1)).toMatchObject({ ok: true, httpVersion: '1.1' });
    expect(fake.records.tokenRequests.at(-1)?.assertion?.claims.aud).toEqual([
      fake.clientId.split('@')[1]!.split('/')[0],
    ]);
  });

  it('also accepts aud as a plain string (HEAD baton)', async () => {
    const fake = await useFakeC1({ tls: false, tokenTtlSeconds: 42 });
    const parts = batonAssertionParts(fake.clientId);
    parts.claims.aud = (parts.claims.aud as string[])[0];
    const res = await postToken(fake, tokenForm(fake.clientId, signAssertion(fake.clientSecret, parts)));
    expect(res.status).toBe(200);
    expect(res.json.expires_in).toBe(42);
  });

  const broken: Array<[string, (p: AssertionParts) => void, RegExp]> = [
    ['expired', (p) => ((p.claims.exp = now() - 5), (p.claims.nbf = now() - 300)), /expired/],
    ['not yet valid', (p) => (p.claims.nbf = now() + 60), /nbf/],
    ['wrong aud', (p) => (p.claims.aud = ['other.conductor.one']), /aud/],
    ['aud with two elements', (p) => (p.claims.aud = [(p.claims.aud as string[])[0], 'x']), /aud/],
    ['missing nonce', (p) => delete p.header.nonce, /nonce/],
    ['short nonce', (p) => (p.header.nonce = 'abcd'), /nonce/],
    ['uppercase nonce', (p) => (p.header.nonce = 'ABCDEF0123456789ABCDEF0123456789'), /nonce/],
    ['alg none', (p) => (p.header.alg = 'none'), /alg/],
    ['wrong iss', (p) => (p.claims.iss = 'someone@else/pcc'), /iss/],
    ['wrong sub', (p) => (p.claims.sub = 'someone@else/pcc'), /sub/],
    ['no iat', (p) => delete p.claims.iat, /iat/],
  ];
  it.each(broken)(
    'refuses an assertion that is %s with 401 and a JSON reason',
    async (_name, breakIt, reason) => {
      const fake = await useFakeC1({ tls: false });
      const parts = batonAssertionParts(fake.clientId);
      breakIt(parts);
      const res = await postToken(fake, tokenForm(fake.clientId, signAssertion(fake.clientSecret, parts)));
      expect(res.status).toBe(401);
      expect(res.json.error).toBe('invalid_client');
      expect(res.json.error_description).toMatch(reason);
      expect(fake.tokens.issued).toBe(0);
    },
  );

  it('refuses an assertion signed with another key (a wrong or rotated secret)', async () => {
    const fake = await useFakeC1({ tls: false });
    const other = generateCredentials();
    const assertion = signAssertion(other.clientSecret, batonAssertionParts(fake.clientId));
    const res = await postToken(fake, tokenForm(fake.clientId, assertion));
    expect(res.status).toBe(401);
    expect(res.json.error_description).toMatch(/signature/);
  });

  it('refuses a tampered payload (signature no longer matches)', async () => {
    const fake = await useFakeC1({ tls: false });
    const good = signAssertion(fake.clientSecret, batonAssertionParts(fake.clientId)).split('.');
    const claims = JSON.parse(Buffer.from(good[1]!, 'base64url').toString()) as Record<string, unknown>;
    claims.exp = (claims.exp as number) + 3600;
    good[1] = Buffer.from(JSON.stringify(claims)).toString('base64url');
    const res = await postToken(fake, tokenForm(fake.clientId, good.join('.')));
    expect(res.status).toBe(401);
    expect(res.json.error_description).toMatch(/signature/);
  });

  it('refuses a form with a missing, an extra or a repeated field, or wrong fixed values', async () => {
    const fake = await useFakeC1({ tls: false });
    const form = () =>
      tokenForm(fake.clientId, signAssertion(fake.clientSecret, batonAssertionParts(fake.clientId)));
    const cases: Array<[string, string | Record<string, string>, RegExp]> = [];
    const missing = form();
    delete (missing as Partial<typeof missing>).grant_type;
    cases.push(['missing', missing, /missing form field grant_type/]);
    cases.push(['extra', { ...form(), scope: 'all' }, /unexpected form field\(s\): scope/]);
    cases.push([
      'repeated',
      new URLSearchParams(form()).toString() + '&client_id=x',
      /client_id given 2 times/,
    ]);
    cases.push(['grant type', { ...form(), grant_type: 'password' }, /grant_type/]);
    cases.push(['assertion type', { ...form(), client_assertion_type: 'jwt' }, /client_assertion_type/]);
    cases.push(['client id', { ...form(), client_id: 'x@y/pcc' }, /unknown client_id/]);
    cases.push(['not a JWS', { ...form(), client_assertion: 'abc' }, /compact JWS/]);
    for (const [what, body, reason] of cases) {
      const res = await postToken(fake, body);
      expect(res.status, what).toBe(401);
      expect(res.json.error_description, what).toMatch(reason);
    }
    const json = await postToken(fake, JSON.stringify(form()), 'application/json');
    expect(json.status).toBe(401);
    expect(json.json.error_description).toMatch(/content-type/);
    expect(fake.tokens.issued).toBe(0);
    expect(fake.records.tokenRequests.filter((r) => !r.ok)).toHaveLength(cases.length + 1);
  });

  it('accepts credentials it was given instead of generating them', async () => {
    const creds = generateCredentials('my-connector', 'acme.conductor.one:8443');
    const fake = await useFakeC1({ tls: false, credentials: creds });
    expect(fake.clientId).toBe('my-connector@acme.conductor.one:8443/pcc');
    // The audience is the client-id host without the port (baton strips it).
    const parts = batonAssertionParts(fake.clientId);
    expect(parts.claims.aud).toEqual(['acme.conductor.one']);
    const res = await postToken(fake, tokenForm(fake.clientId, signAssertion(fake.clientSecret, parts)));
    expect(res.status).toBe(200);
  });

  it('makes secrets baton can parse: secret-token:conductorone.com:v1:<base64url Ed25519 JWK>', async () => {
    const { clientId, clientSecret } = generateCredentials('n', 'h.example');
    expect(clientId).toBe('n@h.example/pcc');
    const parts = clientSecret.split(':');
    expect(parts.slice(0, 3)).toEqual(['secret-token', 'conductorone.com', 'v1']);
    expect(parts[3]).not.toMatch(/[=+/]/);
    const jwk = JSON.parse(Buffer.from(parts[3]!, 'base64url').toString()) as Record<string, string>;
    expect(jwk).toMatchObject({ kty: 'OKP', crv: 'Ed25519' });
    expect(Buffer.from(jwk.d!, 'base64url')).toHaveLength(32);
    expect(Buffer.from(jwk.x!, 'base64url')).toHaveLength(32);
  });
});
