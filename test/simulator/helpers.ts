import type { Simulator } from '../../src/simulator/index.js';
import { simulatorToken } from '../helpers/simulator.js';

/** The tenant simulator tests use unless they are about another one. */
export const TENANT = { users: 60, seed: 7 };

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
  const tok = await simulatorToken(s, scope);
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
