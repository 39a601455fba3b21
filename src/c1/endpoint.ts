import { isLoopbackHost } from '../coupa/base-url.js';
import type { C1Credentials } from './credentials.js';
import { C1EndpointError } from './errors.js';

/** Where the token request and the gRPC calls go. */
export interface C1Endpoint {
  /** https, or http only to a loopback host (a local test double). */
  scheme: 'https' | 'http';
  /** Host name without brackets; the TLS server name. */
  hostname: string;
  port: number;
  /** `https://host:port`, the base of the token URL and the gRPC transport. */
  origin: string;
  tokenUrl: string;
}

const OVERRIDE_HINT =
  'BATON_C1_API_HOST takes host or host:port (https), or http://127.0.0.1:<port> for a local test server.';

/**
 * The tenant host from the client id, unless BATON_C1_API_HOST names another host[:port] (for both
 * the token and the gRPC calls; the JWT audience stays the client id's host). Plain http is only
 * allowed to loopback, where nothing leaves the machine, as for --base-url.
 */
export function resolveEndpoint(
  creds: Pick<C1Credentials, 'host'>,
  env: NodeJS.ProcessEnv = process.env,
): C1Endpoint {
  const override = env.BATON_C1_API_HOST?.trim();
  const raw = override || creds.host;
  const source = override ? 'BATON_C1_API_HOST' : 'the client id';
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `https://${raw}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new C1EndpointError(
      `ConductorOne host ${JSON.stringify(raw)} from ${source} is not a host.`,
      OVERRIDE_HINT,
    );
  }
  if (
    url.username ||
    url.password ||
    (url.pathname !== '/' && url.pathname !== '') ||
    url.search ||
    url.hash
  ) {
    throw new C1EndpointError(
      `ConductorOne host ${JSON.stringify(raw)} from ${source} must be host[:port] only (no path, user or query).`,
      OVERRIDE_HINT,
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new C1EndpointError(`ConductorOne host ${JSON.stringify(raw)} must use https.`, OVERRIDE_HINT);
  }
  const hostname = url.hostname.replace(/^\[|\]$/g, '');
  if (url.protocol === 'http:' && !isLoopbackHost(hostname)) {
    throw new C1EndpointError(
      `ConductorOne host ${url.host} uses plain http to a non-loopback host; the client assertion and tokens would travel unencrypted.`,
      OVERRIDE_HINT,
    );
  }
  const scheme = url.protocol === 'http:' ? 'http' : 'https';
  const port = url.port ? Number(url.port) : scheme === 'https' ? 443 : 80;
  const origin = `${scheme}://${url.hostname}:${port}`;
  return { scheme, hostname, port, origin, tokenUrl: `${origin}/auth/v1/token` };
}
