import { existsSync, readFileSync } from 'node:fs';
import * as tls from 'node:tls';
import { C1EndpointError } from './errors.js';

/**
 * The certificates a ConductorOne connection trusts: Node's bundled roots, the operating system's
 * roots (corporate CAs are installed there, and that is what baton-sdk trusts), the file named by
 * NODE_EXTRA_CA_CERTS, and an explicit CA (tests). Passing `ca` to TLS replaces Node's default
 * store, which is why the bundled roots and NODE_EXTRA_CA_CERTS are added here by hand.
 */

/** Where Linux distributions keep the system bundle (the list Go's crypto/x509 reads). */
const SYSTEM_BUNDLES = [
  '/etc/ssl/certs/ca-certificates.crt',
  '/etc/pki/tls/certs/ca-bundle.crt',
  '/etc/ssl/ca-bundle.pem',
  '/etc/pki/tls/cacert.pem',
  '/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem',
  '/etc/ssl/cert.pem',
];

function systemRoots(env: NodeJS.ProcessEnv): string[] {
  const getCa = (tls as { getCACertificates?: (kind: string) => string[] }).getCACertificates;
  if (typeof getCa === 'function') {
    try {
      return getCa('system');
    } catch {
      // Older Node 22 lines: fall through to the files.
    }
  }
  const files = env.SSL_CERT_FILE ? [env.SSL_CERT_FILE, ...SYSTEM_BUNDLES] : SYSTEM_BUNDLES;
  for (const f of files) {
    try {
      if (existsSync(f)) return [readFileSync(f, 'utf8')];
    } catch {
      // Unreadable: try the next location.
    }
  }
  return [];
}

function extraCaCerts(env: NodeJS.ProcessEnv): string[] {
  const file = env.NODE_EXTRA_CA_CERTS;
  if (!file) return [];
  try {
    return [readFileSync(file, 'utf8')];
  } catch (err) {
    throw new C1EndpointError(
      `NODE_EXTRA_CA_CERTS names ${file}, which cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'}).`,
      'Point it at a PEM file of CA certificates, or unset it.',
    );
  }
}

export interface TrustOptions {
  /** Extra CA certificate(s), PEM; added to, not instead of, the roots above. */
  ca?: string | Buffer | Array<string | Buffer>;
  env?: NodeJS.ProcessEnv;
}

/** One secure context for every connection (building it per connection would parse ~150 roots each time). */
export function createTrustContext(opts: TrustOptions = {}): tls.SecureContext {
  const env = opts.env ?? process.env;
  const explicit = opts.ca === undefined ? [] : Array.isArray(opts.ca) ? opts.ca : [opts.ca];
  return tls.createSecureContext({
    ca: [...tls.rootCertificates, ...systemRoots(env), ...extraCaCerts(env), ...explicit],
    minVersion: 'TLSv1.2',
  });
}
