import { startSimulator, type Simulator, type SimulatorOptions } from '../../src/simulator/index.js';

/** Tests run with the rate limiter off unless they are about it. */
export function sim(opts: SimulatorOptions = {}): Promise<Simulator> {
  return startSimulator({ rateLimit: false, tenant: { users: 60, seed: 7 }, ...opts });
}

/** Runs `fn` against a simulator of its own (see sim), closed afterwards whatever happens. */
export async function withSim<T>(opts: SimulatorOptions, fn: (s: Simulator) => Promise<T>): Promise<T> {
  const s = await sim(opts);
  try {
    return await fn(s);
  } finally {
    await s.close();
  }
}

export async function token(s: Simulator, scope?: string): Promise<string> {
  const body = new URLSearchParams({
    grant_type: 'client_credentials',
    client_id: s.clientId,
    client_secret: s.clientSecret,
  });
  if (scope !== undefined) body.set('scope', scope);
  const res = await fetch(`${s.url}/oauth2/token`, { method: 'POST', body });
  if (res.status !== 200) throw new Error(`token request failed: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { access_token: string }).access_token;
}

export interface Reply {
  status: number;
  headers: Headers;
  text: string;
  // Tests index freely into API answers; a wrong shape fails the assertion that reads it.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any;
}

export async function call(
  s: Simulator,
  tok: string,
  method: string,
  path: string,
  opts: { body?: unknown; accept?: string | null } = {},
): Promise<Reply> {
  const headers: Record<string, string> = { Authorization: `Bearer ${tok}` };
  const accept = opts.accept === undefined ? 'application/json' : opts.accept;
  if (accept !== null) headers['Accept'] = accept;
  if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(`${s.url}${path}`, {
    method,
    headers,
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

/** A reusable client bound to one simulator and token. */
export async function client(s: Simulator, scope?: string) {
  const tok = await token(s, scope);
  return {
    tok,
    get: (path: string, accept?: string | null) => call(s, tok, 'GET', path, { accept }),
    put: (path: string, body: unknown) => call(s, tok, 'PUT', path, { body }),
    post: (path: string, body: unknown) => call(s, tok, 'POST', path, { body }),
    del: (path: string) => call(s, tok, 'DELETE', path),
  };
}

export function q(params: Record<string, string>): string {
  return new URLSearchParams(params).toString();
}
