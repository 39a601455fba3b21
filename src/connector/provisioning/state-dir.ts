import { mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { createHash } from 'node:crypto';

/**
 * Where provisioning keeps its journal, audit log, lock files and array-mode memory when no path
 * is given: one folder per tenant under a state root that does not depend on the working
 * directory. Two processes started from different folders (a CI job, a cron entry, a shell) that
 * change the same tenant must see the same journal and the same locks, or a revoke and a
 * concurrent grant can undo each other while both report success.
 *
 * Root: `--state-dir` (BATON_STATE_DIR), else `$XDG_STATE_HOME/coupa-connector`, else
 * `~/.local/state/coupa-connector` (the XDG default). The tenant folder is named after the base
 * URL's host and port (plus a short hash of a path prefix, for a proxy mounting several tenants).
 */

export const STATE_DIR_ENV = 'BATON_STATE_DIR';

export function stateRoot(explicit?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (explicit && explicit.trim() !== '') return resolve(explicit);
  const xdg = env.XDG_STATE_HOME;
  // The XDG spec: a relative XDG_STATE_HOME is invalid and must be ignored.
  const base = xdg && isAbsolute(xdg) ? xdg : join(homedir(), '.local', 'state');
  return join(base, 'coupa-connector');
}

/** A file-name-safe key for a tenant's base URL: `acme.coupahost.com`, `127.0.0.1_8443`. */
export function tenantKey(baseUrl: string | URL): string {
  const url = new URL(String(baseUrl));
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  let key = (url.port ? `${host}_${url.port}` : host).replace(/[^a-z0-9._-]/g, '_');
  const prefix = url.pathname.replace(/\/+$/, '');
  if (prefix !== '') key += `-${createHash('sha256').update(prefix).digest('hex').slice(0, 8)}`;
  return key;
}

export interface StatePaths {
  dir: string;
  journal: string;
  auditLog: string;
  locks: string;
}

/** The tenant's folder and the default files in it; the folder is not created here. */
export function tenantStatePaths(baseUrl: string | URL, root = stateRoot()): StatePaths {
  const dir = join(root, tenantKey(baseUrl));
  return {
    dir,
    journal: join(dir, 'journal.jsonl'),
    auditLog: join(dir, 'audit.jsonl'),
    locks: join(dir, 'locks'),
  };
}

/** Creates the folder owner-only: the journal and audit log name users and their access. */
export function ensureStateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
}
