import { generateKeyPairSync, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseClientId, parseClientSecret, parseCredentials } from '../../src/c1/credentials.js';
import { buildAssertion } from '../../src/c1/assertion.js';
import { C1CredentialsError } from '../../src/c1/errors.js';
import { redact } from '../../src/secrets.js';
import { testCredentials } from './keys.js';

describe('client id', () => {
  it('splits name, host and suffix as baton-sdk does', () => {
    expect(parseClientId('strange-hydra-68836@acme.conductor.one/pcc')).toEqual({
      clientId: 'strange-hydra-68836@acme.conductor.one/pcc',
      clientName: 'strange-hydra-68836',
      host: 'acme.conductor.one',
      audience: 'acme.conductor.one',
    });
  });

  it('keeps a port for the host but not for the audience', () => {
    const id = parseClientId('x@localhost:8443/pcc/extra');
    expect(id.host).toBe('localhost:8443');
    expect(id.audience).toBe('localhost');
  });

  it.each(['no-at-sign.example/pcc', '@acme.conductor.one/pcc', 'name@acme.conductor.one', 'name@/pcc'])(
    'refuses %s with a typed error naming the expected shape',
    (bad) => {
      expect(() => parseClientId(bad)).toThrow(C1CredentialsError);
      expect(() => parseClientId(bad)).toThrow(/<name>@<tenant host>\/<suffix>|<tenant host>\/<suffix>/);
    },
  );
});

describe('client secret', () => {
  it('loads the Ed25519 key; an assertion signed with it verifies with the public key', () => {
    const c = testCredentials();
    const creds = parseCredentials(c.clientId, c.clientSecret);
    const jws = buildAssertion(creds, Date.parse('2026-01-01T00:00:00Z'));
    const [h, p, s] = jws.split('.');
    expect(verify(null, Buffer.from(`${h}.${p}`), c.publicKey, Buffer.from(s!, 'base64url'))).toBe(true);
    const header = JSON.parse(Buffer.from(h!, 'base64url').toString()) as Record<string, string>;
    expect(Object.keys(header)).toEqual(['alg', 'nonce']);
    expect(header.alg).toBe('EdDSA');
    expect(header.nonce).toMatch(/^[0-9a-f]{32}$/);
    const claims = JSON.parse(Buffer.from(p!, 'base64url').toString()) as Record<string, unknown>;
    const iat = Date.parse('2026-01-01T00:00:00Z') / 1000;
    expect(claims).toEqual({
      iss: c.clientId,
      sub: c.clientId,
      aud: ['tenant.example'],
      exp: iat + 120,
      nbf: iat - 120,
      iat,
    });
    expect(Object.keys(claims)).toEqual(['iss', 'sub', 'aud', 'exp', 'nbf', 'iat']);
    // Two assertions never share a nonce.
    expect(buildAssertion(creds).split('.')[0]).not.toBe(buildAssertion(creds).split('.')[0]);
  });

  it('puts kid in the header only when the JWK has one', () => {
    const c = testCredentials('tenant.example', { kid: 'key-7' });
    const jws = buildAssertion(parseCredentials(c.clientId, c.clientSecret));
    expect(JSON.parse(Buffer.from(jws.split('.')[0]!, 'base64url').toString())).toMatchObject({
      kid: 'key-7',
    });
  });

  it('checks only the version part of the prefix, as baton-sdk', () => {
    const c = testCredentials();
    expect(() => parseClientSecret(`anything:else:v1:${c.encoded}`)).not.toThrow();
    expect(() => parseClientSecret(`secret-token:conductorone.com:v2:${c.encoded}`)).toThrow(/v1 format/);
  });

  const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ format: 'jwk' });
  const ed = testCredentials();
  const publicOnly = { kty: 'OKP', crv: 'Ed25519', x: ed.jwk.x };
  const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  it.each([
    ['empty', '', /required/],
    ['no prefix', ed.encoded, /v1 format/],
    ['not base64url', 'secret-token:conductorone.com:v1:abc+/=', /not base64url/],
    [
      'not JSON',
      `secret-token:conductorone.com:v1:${Buffer.from('{oops').toString('base64url')}`,
      /not a JSON Web Key/,
    ],
    ['an RSA key', `secret-token:conductorone.com:v1:${enc(rsa)}`, /kty "RSA".*not an Ed25519 key/],
    ['a public key', `secret-token:conductorone.com:v1:${enc(publicOnly)}`, /no private part/],
    ['a mangled key', `secret-token:conductorone.com:v1:${enc({ ...ed.jwk, d: 'AAAA' })}`, /does not load/],
  ])('refuses %s with one clear message that never quotes the secret', (_name, secret, message) => {
    let err: unknown;
    try {
      parseCredentials(ed.clientId, secret);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(C1CredentialsError);
    const text = `${(err as Error).message} ${(err as C1CredentialsError).hint ?? ''}`;
    expect(text).toMatch(message);
    if (secret) expect(text).not.toContain(secret.slice(34));
    // Registered for redaction before parsing failed.
    if (secret.length > 40) expect(redact(`x ${secret} y`)).not.toContain(secret.slice(34));
  });

  it('registers the secret, its key part and d for redaction', () => {
    const c = testCredentials();
    parseCredentials(c.clientId, c.clientSecret);
    const text = redact(`${c.clientSecret} ${c.encoded} ${c.jwk.d} ${JSON.stringify(c.jwk)}`);
    expect(text).not.toContain(c.encoded);
    expect(text).not.toContain(c.jwk.d);
  });

  it('requires both halves', () => {
    const c = testCredentials();
    expect(() => parseCredentials(undefined, c.clientSecret)).toThrow(
      /--client-id \(BATON_CLIENT_ID\) is required/,
    );
    expect(() => parseCredentials(c.clientId, '  ')).toThrow(
      /--client-secret \(BATON_CLIENT_SECRET\) is required/,
    );
  });
});
