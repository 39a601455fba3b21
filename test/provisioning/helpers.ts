import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLogger } from '../../src/log.js';
import type { Simulator } from '../../src/simulator/index.js';
import type { CoupaClient } from '../../src/coupa/index.js';
import { testClient, type TestClientOptions } from '../helpers/client.js';
import {
  ArrayModeMemory,
  Provisioner,
  type ArrayMembershipType,
  type ProvisionerOptions,
} from '../../src/connector/provisioning/index.js';

/** The small tenant provisioning tests use unless they need another one. */
export const TENANT = { users: 12, seed: 7 };

/** The client provisioning tests use: the write scopes too, and retries that cost milliseconds. */
export const PROVISIONING_CLIENT: TestClientOptions = {
  write: true,
  timeoutMs: 5_000,
  retry: { baseDelayMs: 5, maxDelayMs: 50 },
};

export function provisionerFor(
  sim: Simulator,
  dir: string,
  extra: Partial<ProvisionerOptions> & { client?: CoupaClient } = {},
): Provisioner {
  return new Provisioner({
    api: extra.client ?? testClient(sim, PROVISIONING_CLIENT),
    baseUrl: sim.url,
    journalPath: join(dir, 'journal.jsonl'),
    auditLogPath: join(dir, 'audit.jsonl'),
    arrayModes: new ArrayModeMemory(),
    retry: { delayMs: 5, settleMs: 50 },
    ...(process.env.PROVISIONING_DEBUG ? { logger: createLogger({ level: 'debug', format: 'json' }) } : {}),
    ...extra,
  });
}

export const KINDS: readonly (ArrayMembershipType | 'license')[] = [
  'role',
  'group',
  'content_group',
  'account_group',
  'approval_group',
  'license',
];

const MEMBERSHIP_KEY = {
  role: 'roles',
  group: 'userGroups',
  content_group: 'contentGroups',
  account_group: 'accountGroups',
  approval_group: 'approvalGroups',
} as const;

/**
 * Approval groups are the user's groups that can approve, so the two kinds move together on such
 * a group: granting or revoking one of them changes the other for that group, and nothing else.
 */
export const COUPLED: Partial<Record<ArrayMembershipType | 'license', ArrayMembershipType>> = {
  group: 'approval_group',
  approval_group: 'group',
};

/** What the user must hold after `item` of `kind` is revoked from `before` (coupled kinds included). */
export function afterRevoke(
  before: Record<string, (number | string)[]>,
  kind: ArrayMembershipType | 'license',
  item: number | string,
): Record<string, (number | string)[]> {
  const out = { ...before, [kind]: before[kind]!.filter((x) => x !== item) };
  const other = COUPLED[kind];
  if (other) out[other] = before[other]!.filter((x) => x !== item);
  return out;
}

/** What the simulator says the user holds, per kind (ids, or license flags), sorted. */
export function holdings(
  sim: Simulator,
  userId: number,
  kind: ArrayMembershipType | 'license',
): (number | string)[] {
  const m = sim.groundTruth().memberships;
  if (kind === 'license')
    return m.licenses
      .filter(([u]) => u === userId)
      .map(([, f]) => f)
      .sort();
  return m[MEMBERSHIP_KEY[kind]]
    .filter(([u]) => u === userId)
    .map(([, id]) => id)
    .sort((a, b) => a - b);
}

/** Everything the user holds, for "nothing else changed" checks. */
export function allHoldings(sim: Simulator, userId: number): Record<string, (number | string)[]> {
  return Object.fromEntries(KINDS.map((k) => [k, holdings(sim, userId, k)]));
}

/** Sets the user's list (or license) directly in the tenant, bypassing HTTP, to arrange a precondition. */
export function arrange(
  sim: Simulator,
  userId: number,
  kind: ArrayMembershipType | 'license',
  items: (number | string)[],
): void {
  if (kind === 'license') {
    for (const flag of sim.tenant.licenseFlags) sim.tenant.setLicense(userId, flag, items.includes(flag));
    return;
  }
  const field = {
    role: 'roles',
    group: 'user-groups',
    content_group: 'content-groups',
    account_group: 'account-groups',
    approval_group: 'approval-groups',
  }[kind];
  sim.tenant.updateUser(userId, { [field]: items.map((id) => ({ id })) }, { arrayMode: 'replace' });
}

/** Ids of existing objects of a kind, from ground truth. */
export function existingIds(sim: Simulator, kind: ArrayMembershipType): number[] {
  const gt = sim.groundTruth();
  const list = {
    role: gt.roles,
    group: gt.userGroups,
    content_group: gt.contentGroups,
    account_group: gt.accountGroups,
    approval_group: gt.approvalGroups,
  }[kind];
  return list.map((r) => r.id);
}

export function entitlementIdFor(kind: ArrayMembershipType | 'license', item: number | string): string {
  if (kind === 'license') return `license:${item === 'treasury-user' ? 'treasury_user' : item}:assigned`;
  if (kind === 'approval_group') return `group:${item}:approver`;
  return `${kind}:${item}:member`;
}

export function writeCount(sim: Simulator): number {
  const byRoute = sim.counters().byRoute;
  return Object.entries(byRoute)
    .filter(([route]) => /^(PUT|POST|PATCH|DELETE) \/api\//.test(route))
    .reduce((n, [, c]) => n + c, 0);
}

export function readJsonLines(path: string): unknown[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as unknown);
}
