import { generateKeyPairSync, type KeyObject } from 'node:crypto';

/** A fresh ConductorOne-style credential pair for tests (the shape the C1 UI hands out). */
export function testCredentials(host = 'tenant.example', extra: Record<string, string> = {}) {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const jwk = { ...privateKey.export({ format: 'jwk' }), ...extra };
  const encoded = Buffer.from(JSON.stringify(jwk)).toString('base64url');
  return {
    clientId: `test-client-1234@${host}/pcc`,
    clientSecret: `secret-token:conductorone.com:v1:${encoded}`,
    jwk: jwk as Record<string, string>,
    encoded,
    publicKey: publicKey as KeyObject,
  };
}
