import { CoupaDomainError } from './errors.js';

const COUPA_HOST_SUFFIXES = ['coupahost.com', 'coupacloud.com'];
/** One DNS label: what a Coupa instance name can be. */
const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** True for hosts where plain http cannot leave the machine. */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.toLowerCase().replace(/^\[|\]$/g, '');
  if (h === 'localhost' || h === '::1') return true;
  return /^127(?:\.\d{1,3}){3}$/.test(h);
}

const DOMAIN_HINT =
  'Use the instance name (acme), its host (acme.coupahost.com or acme.coupacloud.com) or https://acme.coupahost.com; ' +
  'to reach a proxy or the simulator use --base-url instead.';

/**
 * Credentials may only go to a Coupa instance host, so `--coupa-domain` accepts exactly the forms a
 * Coupa instance is addressed by (the rule baton-coupa applies: three labels under coupahost.com or
 * coupacloud.com) and always yields lower-case https. `--base-url` is the explicit, deliberate
 * escape hatch; it still refuses plain http except to loopback, where nothing leaves the machine.
 */
export function resolveBaseUrl(input: { domain?: string; baseUrl?: string }): URL {
  if (input.baseUrl !== undefined && input.baseUrl.trim() !== '') return checkBaseUrl(input.baseUrl.trim());
  const raw = input.domain?.trim();
  if (!raw) {
    throw new CoupaDomainError(
      'No Coupa domain given.',
      'Pass --coupa-domain (BATON_COUPA_DOMAIN) or --base-url.',
    );
  }
  const shown = JSON.stringify(raw.length > 80 ? raw.slice(0, 80) + '…' : raw);
  let rest = raw.toLowerCase();
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//.exec(rest);
  if (scheme) {
    if (scheme[1] !== 'https') {
      throw new CoupaDomainError(`Coupa domain ${shown} must use https.`, DOMAIN_HINT);
    }
    rest = rest.slice(scheme[0].length);
  }
  if (rest.endsWith('/')) rest = rest.slice(0, -1);
  if (/[/?#@:\s]/.test(rest)) {
    throw new CoupaDomainError(
      `Coupa domain ${shown} is not a Coupa instance host (no path, port, user or query allowed).`,
      DOMAIN_HINT,
    );
  }
  const labels = rest.split('.');
  let host: string | undefined;
  if (labels.length === 1) host = `${labels[0]}.coupahost.com`;
  else if (labels.length === 3 && COUPA_HOST_SUFFIXES.includes(`${labels[1]}.${labels[2]}`)) host = rest;
  if (!host || !LABEL.test(host.split('.')[0] ?? '')) {
    throw new CoupaDomainError(
      `Coupa domain ${shown} is not a Coupa instance (expected <instance>.coupahost.com or <instance>.coupacloud.com).`,
      DOMAIN_HINT,
    );
  }
  try {
    return new URL(`https://${host}`);
  } catch {
    // A label the URL parser refuses, e.g. `xn--acme` (an invalid punycode A-label).
    throw new CoupaDomainError(`Coupa domain ${shown} is not a valid host name.`, DOMAIN_HINT);
  }
}

function checkBaseUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new CoupaDomainError(
      `--base-url "${raw.slice(0, 200)}" is not a URL.`,
      'Give a full URL such as https://proxy.example.com or http://127.0.0.1:8080.',
    );
  }
  if (url.username || url.password) {
    throw new CoupaDomainError(
      '--base-url must not contain a user name or password.',
      'Pass credentials with --coupa-client-id and --coupa-client-secret.',
    );
  }
  if (url.search || url.hash) {
    throw new CoupaDomainError(`--base-url ${url.origin}${url.pathname} must not carry a query or fragment.`);
  }
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
    throw new CoupaDomainError(
      `--base-url ${url.origin} uses plain http to a non-loopback host; credentials would travel unencrypted.`,
      'Use https, or http only to 127.0.0.1/localhost/::1 (the simulator).',
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new CoupaDomainError(`--base-url ${raw.slice(0, 200)} must be an https URL.`);
  }
  // A path prefix (a proxy mounting Coupa under /coupa) is kept; requests append to it.
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  return url;
}

/** Joins the base (which may carry a path prefix) and an API path such as `/api/users`. */
export function joinUrl(base: URL, path: string): URL {
  const prefix = base.pathname.replace(/\/+$/, '');
  const url = new URL(base.href);
  url.pathname = prefix + (path.startsWith('/') ? path : `/${path}`);
  return url;
}
