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

export interface BaseUrlInput {
  domain?: string;
  baseUrl?: string;
  /** Where each value came from (`the command line`, `BATON_BASE_URL`, …), for the error when they disagree. */
  sources?: { domain?: string; baseUrl?: string };
}

/**
 * Credentials may only go to a Coupa instance host, so `--coupa-domain` accepts exactly the forms a
 * Coupa instance is addressed by (the rule baton-coupa applies: three labels under coupahost.com or
 * coupacloud.com) and always yields lower-case https. `--base-url` is the explicit, deliberate
 * escape hatch; it still refuses plain http except to loopback, where nothing leaves the machine.
 * Both may be given only when they name the same host: otherwise one of them is a mistake (often a
 * variable left over from another run) and the sync would read a tenant nobody asked for.
 */
export function resolveBaseUrl(input: BaseUrlInput): URL {
  const domain = input.domain?.trim();
  if (input.baseUrl !== undefined && input.baseUrl.trim() !== '') {
    const base = checkBaseUrl(input.baseUrl.trim());
    if (domain) checkSameHost(domain, base, input.sources ?? {});
    return base;
  }
  if (!domain) {
    throw new CoupaDomainError(
      'No Coupa domain given.',
      'Pass --coupa-domain (BATON_COUPA_DOMAIN) or --base-url.',
    );
  }
  return resolveDomain(domain);
}

function checkSameHost(domain: string, base: URL, sources: NonNullable<BaseUrlInput['sources']>): void {
  let why: string;
  try {
    const instance = resolveDomain(domain);
    if (instance.host === base.host) return;
    why = `${instance.host} is not ${base.host}`;
  } catch (err) {
    why = (err as Error).message.replace(/\.$/, '');
  }
  const from = (source: string | undefined) => (source ? ` (from ${source})` : '');
  const variables = [sources.domain, sources.baseUrl].filter((v) => v?.startsWith('BATON_'));
  throw new CoupaDomainError(
    `--coupa-domain ${quoted(domain)}${from(sources.domain)} and --base-url ${base.href}${from(sources.baseUrl)} ` +
      `are both set and disagree: ${why}.`,
    'Give only one of them: --coupa-domain for the Coupa instance, --base-url for a proxy or the simulator' +
      (variables.length ? ` (unset ${variables.join(' or ')} if it is left over from another run).` : '.'),
  );
}

function quoted(raw: string): string {
  return JSON.stringify(raw.length > 80 ? raw.slice(0, 80) + '…' : raw);
}

function resolveDomain(raw: string): URL {
  const shown = quoted(raw);
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
