import { mulberry32, type Random } from './prng.js';
import type { Tenant } from './tenant.js';

/**
 * Changes made to the tenant while a sync reads it, as other Coupa admins and integrations make
 * them during a long sync: users created and deactivated, user groups and roles deleted (Coupa has
 * no user DELETE; `removeUsers` is there for clients that must cope anyway).
 *
 * A round of changes runs right after a matching response has been sent, i.e. between the pages a
 * client asks for. Every change goes through the Tenant's own methods, so the ground truth (the
 * tenant as it is now) stays exact: a deleted group is gone from every user's memberships too.
 */
export interface DriftSpec {
  /** Which requests trigger a round: method and path prefix; default GET /api/users. */
  method?: string;
  path?: string;
  /** A round after every N-th matching request (default 1: after each). */
  every?: number;
  /** Skip this many matching requests first (default 0). */
  after?: number;
  /** Stop after this many rounds (default: no limit). */
  rounds?: number;
  /** Per round (defaults: 2 created, 1 deactivated, nothing deleted). */
  createUsers?: number;
  deactivateUsers?: number;
  deleteUserGroups?: number;
  /** Roles to delete per round; the four built-ins are never deleted. */
  deleteRoles?: number;
  /** Users to remove outright (not something Coupa does; tests a client's resilience). */
  removeUsers?: number;
  seed?: number;
}

/** What drift did, in order, for tests to check a sync against. */
export interface DriftLog {
  rounds: number;
  created: number[];
  deactivated: number[];
  removedUsers: number[];
  deletedUserGroups: number[];
  deletedRoles: number[];
}

const BUILT_IN_ROLES = new Set(['Approver', 'Admin', 'User', 'Buyer']);

export class Drift {
  private readonly rand: Random;
  private seen = 0;
  private made = 0;
  readonly log: DriftLog = {
    rounds: 0,
    created: [],
    deactivated: [],
    removedUsers: [],
    deletedUserGroups: [],
    deletedRoles: [],
  };

  constructor(
    private readonly tenant: Tenant,
    private readonly spec: DriftSpec,
    private readonly now: () => number = () => Math.floor(Date.now() / 1000) * 1000,
  ) {
    this.rand = mulberry32(spec.seed ?? 1);
  }

  /** Called after every response; runs a round when the request matches the schedule. */
  afterResponse(method: string, path: string): void {
    const s = this.spec;
    if (method !== (s.method ?? 'GET').toUpperCase()) return;
    const prefix = s.path ?? '/api/users';
    if (path !== prefix && !path.startsWith(`${prefix}/`)) return;
    this.seen++;
    if (this.seen <= (s.after ?? 0)) return;
    if ((this.seen - (s.after ?? 0)) % Math.max(1, s.every ?? 1) !== 0) return;
    if (s.rounds !== undefined && this.log.rounds >= s.rounds) return;
    this.round();
  }

  /** One round of changes, now. */
  round(): void {
    const s = this.spec;
    const t = this.tenant;
    const now = this.now();
    this.log.rounds++;
    for (let i = 0; i < (s.createUsers ?? 2); i++) {
      const k = ++this.made;
      const user = t.createUser(
        {
          login: `drift.${k}.${Math.floor(this.rand() * 1e9)}`,
          email: `drift.${k}@example.com`,
          firstname: 'Drift',
          lastname: `User ${k}`,
        },
        { now },
      );
      this.log.created.push(user.id);
    }
    for (let i = 0; i < (s.deactivateUsers ?? 1); i++) {
      const active = this.pick(t.users.list.filter((u) => u.active));
      if (!active) break;
      t.updateUser(active.id, { active: false }, { now });
      this.log.deactivated.push(active.id);
    }
    for (let i = 0; i < (s.removeUsers ?? 0); i++) {
      const u = this.pick(t.users.list);
      if (!u || !t.removeUser(u.id)) break;
      this.log.removedUsers.push(u.id);
    }
    for (let i = 0; i < (s.deleteUserGroups ?? 0); i++) {
      const g = this.pick(t.userGroups.list);
      if (!g || !t.removeRecord('userGroups', g.id)) break;
      this.log.deletedUserGroups.push(g.id);
    }
    for (let i = 0; i < (s.deleteRoles ?? 0); i++) {
      const r = this.pick(t.roles.list.filter((role) => !BUILT_IN_ROLES.has(role.name) || !role.systemRole));
      if (!r || !t.removeRecord('roles', r.id)) break;
      this.log.deletedRoles.push(r.id);
    }
  }

  private pick<T>(list: readonly T[]): T | undefined {
    return list.length ? list[Math.floor(this.rand() * list.length)] : undefined;
  }
}

/**
 * The CLI's `--drift` value: `key=n,…` with keys every, after, rounds, create, deactivate,
 * delete-groups, delete-roles, path; `on` alone is one of each (2 created, 1 deactivated, 1 group
 * and 1 role deleted) after every 5th users page.
 */
export function parseDrift(text: string): DriftSpec | undefined {
  const t = text.trim();
  if (t === 'off' || t === '') return undefined;
  const spec: DriftSpec =
    t === 'on' ? { every: 5, createUsers: 2, deactivateUsers: 1, deleteUserGroups: 1, deleteRoles: 1 } : {};
  if (t === 'on') return spec;
  for (const pair of t.split(',')) {
    const [key, raw] = pair.split('=').map((s) => s.trim()) as [string, string | undefined];
    if (key === 'path' && raw) {
      spec.path = raw;
      continue;
    }
    const n = Number(raw);
    if (raw === undefined || !Number.isInteger(n) || n < 0)
      throw new RangeError(`drift: "${pair}" is not key=n`);
    if (key === 'every') spec.every = n;
    else if (key === 'after') spec.after = n;
    else if (key === 'rounds') spec.rounds = n;
    else if (key === 'create') spec.createUsers = n;
    else if (key === 'deactivate') spec.deactivateUsers = n;
    else if (key === 'delete-groups') spec.deleteUserGroups = n;
    else if (key === 'delete-roles') spec.deleteRoles = n;
    else if (key === 'seed') spec.seed = n;
    else
      throw new RangeError(
        `drift: unknown key "${key}" (every, after, rounds, create, deactivate, delete-groups, delete-roles, path, seed)`,
      );
  }
  return spec;
}
