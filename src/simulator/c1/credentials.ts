import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';

/** The Ed25519 connector credentials the fake ConductorOne hands out, as ConductorOne's UI would. */
export interface FakeC1Credentials {
  /** `<name>@<host>/pcc`; the host part is what the token assertion's `aud` must name. */
  clientId: string;
  /** `secret-token:conductorone.com:v1:<base64url(JSON JWK with the private key)>`. */
  clientSecret: string;
  /** The host part of the client id (the assertion audience). */
  audience: string;
  /** Verifies assertions signed with the secret's key. */
  publicKey: KeyObject;
}

const SECRET_PREFIX = 'secret-token:conductorone.com:v1:';

/**
 * A fresh key pair and the id/secret strings a connector is configured with. Tests that need a
 * "wrong secret" call this twice and configure the connector with the second secret.
 */
export function generateCredentials(
  name = 'fake-connector',
  host = 'tenant.conductor.example',
): FakeC1Credentials {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const jwk = privateKey.export({ format: 'jwk' });
  // Only the members baton's parser needs, in a fixed order, so the secret is stable per key.
  const body = JSON.stringify({ kty: jwk.kty, crv: jwk.crv, x: jwk.x, d: jwk.d });
  return {
    clientId: `${name}@${host}/pcc`,
    clientSecret: SECRET_PREFIX + Buffer.from(body).toString('base64url'),
    audience: host,
    publicKey,
  };
}

/** The public half of a client secret (for a fake configured with someone else's credentials). */
export function publicKeyFromSecret(clientSecret: string): KeyObject {
  const parts = clientSecret.split(':');
  if (parts.length !== 4 || parts[2] !== 'v1') throw new Error('not a ConductorOne v1 client secret');
  const jwk = JSON.parse(Buffer.from(parts[3]!, 'base64url').toString('utf8')) as {
    kty?: string;
    crv?: string;
    x?: string;
  };
  if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519' || !jwk.x) {
    throw new Error('the client secret does not hold an Ed25519 key');
  }
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: jwk.x }, format: 'jwk' });
}

/** The host part of a client id `<name>@<host>/<suffix>`, with any port removed (baton's audience). */
export function audienceOf(clientId: string): string {
  const at = clientId.indexOf('@');
  const rest = at < 0 ? '' : clientId.slice(at + 1);
  const slash = rest.indexOf('/');
  if (at < 0 || slash < 0) throw new Error(`client id ${clientId} is not of the form name@host/suffix`);
  return rest.slice(0, slash).replace(/:\d+$/, '');
}
