import { createPrivateKey, type KeyObject } from 'node:crypto';
import { registerSecret } from '../secrets.js';
import { C1CredentialsError } from './errors.js';

/**
 * ConductorOne connector credentials, as the connector's page in ConductorOne shows them:
 * a client id `<client name>@<tenant host>/<suffix>` and a client secret
 * `secret-token:conductorone.com:v1:<base64url JSON Web Key>` holding an Ed25519 private key.
 * Parsed the way baton-sdk parses them, so any pair that works there works here.
 */
export interface C1Credentials {
  /** The full client id; `iss`, `sub` and `client_id` of the token request. */
  clientId: string;
  /** Left of the `@`; the user-agent starts with it. */
  clientName: string;
  /** The tenant host (with a port if the id has one): where the token and gRPC calls go. */
  host: string;
  /** The host without a port: the JWT audience, even when BATON_C1_API_HOST points elsewhere. */
  audience: string;
  privateKey: KeyObject;
  /** The JWK's `kid`, put in the JWS header only when the key carries one. */
  keyId?: string;
}

const SECRET_PREFIX_HINT =
  'The secret looks like secret-token:conductorone.com:v1:eyJ…; copy it whole from ConductorOne (Settings > Edit > Rotate).';

export function parseClientId(
  raw: string,
): Pick<C1Credentials, 'clientId' | 'clientName' | 'host' | 'audience'> {
  const clientId = raw.trim();
  const at = clientId.indexOf('@');
  // Show the id (it is not a secret) but never more than a line of it.
  const shown = JSON.stringify(clientId.length > 120 ? `${clientId.slice(0, 120)}…` : clientId);
  if (at < 1) {
    throw new C1CredentialsError(
      `Invalid ConductorOne client id ${shown}: expected <name>@<tenant host>/<suffix>, e.g. happy-otter-12345@acme.conductor.one/pcc.`,
    );
  }
  const rest = clientId.slice(at + 1);
  const slash = rest.indexOf('/');
  const host = slash < 0 ? '' : rest.slice(0, slash);
  if (slash < 0 || host === '' || /[\s@]/.test(host)) {
    throw new C1CredentialsError(
      `Invalid ConductorOne client id ${shown}: the part after "@" must be <tenant host>/<suffix>, e.g. acme.conductor.one/pcc.`,
    );
  }
  return { clientId, clientName: clientId.slice(0, at), host, audience: stripPort(host) };
}

function stripPort(host: string): string {
  if (host.startsWith('[')) return host.slice(0, host.indexOf(']') + 1);
  const colon = host.lastIndexOf(':');
  return colon > 0 && /^\d+$/.test(host.slice(colon + 1)) ? host.slice(0, colon) : host;
}

interface Jwk {
  kty?: unknown;
  crv?: unknown;
  x?: unknown;
  d?: unknown;
  kid?: unknown;
}

/**
 * The secret's key. Every part of the secret is registered for redaction before anything can
 * fail, so no error or log line below can carry it, not even a truncated or mangled copy.
 */
export function parseClientSecret(raw: string): Pick<C1Credentials, 'privateKey' | 'keyId'> {
  const secret = raw.trim();
  registerSecret(raw);
  registerSecret(secret);
  const parts = splitN(secret, ':', 4);
  if (parts.length !== 4 || parts[2] !== 'v1' || parts[3] === '') {
    throw new C1CredentialsError(
      'Invalid ConductorOne client secret: not in the v1 format.',
      SECRET_PREFIX_HINT,
    );
  }
  const encoded = parts[3]!;
  registerSecret(encoded);
  if (!/^[A-Za-z0-9_-]+$/.test(encoded)) {
    throw new C1CredentialsError(
      'Invalid ConductorOne client secret: the key part is not base64url.',
      SECRET_PREFIX_HINT,
    );
  }
  let jwk: Jwk;
  try {
    const json = Buffer.from(encoded, 'base64url').toString('utf8');
    registerSecret(json);
    jwk = JSON.parse(json) as Jwk;
  } catch {
    throw new C1CredentialsError(
      'Invalid ConductorOne client secret: the key part is not a JSON Web Key.',
      SECRET_PREFIX_HINT,
    );
  }
  if (jwk === null || typeof jwk !== 'object') {
    throw new C1CredentialsError('Invalid ConductorOne client secret: the key part is not a JSON Web Key.');
  }
  if (typeof jwk.d === 'string') registerSecret(jwk.d);
  if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519') {
    throw new C1CredentialsError(
      `Invalid ConductorOne client secret: the key is ${describeKey(jwk)}, not an Ed25519 key (kty OKP, crv Ed25519).`,
    );
  }
  if (typeof jwk.d !== 'string' || jwk.d === '' || typeof jwk.x !== 'string') {
    throw new C1CredentialsError(
      'Invalid ConductorOne client secret: the key holds no private part (d); a public key cannot sign.',
    );
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({
      key: { kty: 'OKP', crv: 'Ed25519', x: jwk.x, d: jwk.d },
      format: 'jwk',
    });
  } catch {
    throw new C1CredentialsError('Invalid ConductorOne client secret: the Ed25519 key does not load.');
  }
  return { privateKey, keyId: typeof jwk.kid === 'string' && jwk.kid !== '' ? jwk.kid : undefined };
}

function describeKey(jwk: Jwk): string {
  const kty = typeof jwk.kty === 'string' ? jwk.kty.slice(0, 10) : 'missing';
  const crv = typeof jwk.crv === 'string' ? jwk.crv.slice(0, 10) : 'missing';
  return `kty ${JSON.stringify(kty)}, crv ${JSON.stringify(crv)}`;
}

/** Go's strings.SplitN: at most n parts, the last one holding the rest. */
function splitN(s: string, sep: string, n: number): string[] {
  const out: string[] = [];
  let rest = s;
  while (out.length < n - 1) {
    const i = rest.indexOf(sep);
    if (i < 0) break;
    out.push(rest.slice(0, i));
    rest = rest.slice(i + sep.length);
  }
  out.push(rest);
  return out;
}

/** Both halves, checked together: the pair is required as a pair, as in baton. */
export function parseCredentials(
  clientId: string | undefined,
  clientSecret: string | undefined,
): C1Credentials {
  if (clientSecret) registerSecret(clientSecret);
  if (!clientId?.trim()) {
    throw new C1CredentialsError('--client-id (BATON_CLIENT_ID) is required in service mode.');
  }
  if (!clientSecret?.trim()) {
    throw new C1CredentialsError('--client-secret (BATON_CLIENT_SECRET) is required in service mode.');
  }
  return { ...parseClientId(clientId), ...parseClientSecret(clientSecret) };
}
