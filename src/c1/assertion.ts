import { randomBytes, sign } from 'node:crypto';
import type { C1Credentials } from './credentials.js';

/** How long an assertion is valid on either side of now; baton-sdk uses two minutes. */
export const ASSERTION_SKEW_SECONDS = 120;

/**
 * The `client_assertion` of the token request: a compact JWS signed with the client's Ed25519 key
 * (RFC 7523 client authentication). Header and claims in the order and shape baton-sdk v0.2.58
 * sends, audience as a one-element array (ConductorOne accepts that and the plain string).
 */
export function buildAssertion(creds: C1Credentials, nowMs: number = Date.now()): string {
  const header: Record<string, string> = { alg: 'EdDSA', nonce: randomBytes(16).toString('hex') };
  if (creds.keyId) header.kid = creds.keyId;
  const now = Math.floor(nowMs / 1000);
  const claims = {
    iss: creds.clientId,
    sub: creds.clientId,
    aud: [creds.audience],
    exp: now + ASSERTION_SKEW_SECONDS,
    nbf: now - ASSERTION_SKEW_SECONDS,
    iat: now,
  };
  const signingInput = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  // Ed25519 takes no digest: the algorithm argument must be null.
  const signature = sign(null, Buffer.from(signingInput), creds.privateKey);
  return `${signingInput}.${signature.toString('base64url')}`;
}

function b64url(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url');
}
