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
import { MEMBERSHIP_TYPES, membershipType, type MembershipType } from '../../src/connector/types/index.js';
import { entitlementOf, typeTruth, type TypeTruth } from '../helpers/membership-truth.js';

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

/** Every membership type, in list order: the matrix, the randomized faults and sync-agrees run each. */
export const KINDS: readonly MembershipType[] = MEMBERSHIP_TYPES.map((t) => t.name);

function truthOf(sim: Simulator, kind: MembershipType): TypeTruth {
  return typeTruth(sim.groundTruth(), membershipType(kind)!);
}

/**
 * Approval groups are the user's groups that can approve, so the two kinds move together on such
 * a group: granting or revoking one of them changes the other for that group, and nothing else.
 */
export const COUPLED: Partial<Record<MembershipType, ArrayMembershipType>> = {
  group: 'approval_group',
  approval_group: 'group',
};

/** What the user must hold after `item` of `kind` is revoked from `before` (coupled kinds included). */
export function afterRevoke(
  before: Record<string, (number | string)[]>,
  kind: MembershipType,
  item: number | string,
): Record<string, (number | string)[]> {
  const out = { ...before, [kind]: before[kind]!.filter((x) => x !== item) };
  const other = COUPLED[kind];
  if (other) out[other] = before[other]!.filter((x) => x !== item);
  return out;
}

/** What the simulator says the user holds, per kind (ids, or license flags), sorted. */
export function holdings(sim: Simulator, userId: number, kind: MembershipType): (number | string)[] {
  return truthOf(sim, kind)
    .holders.filter(([u]) => u === userId)
    .map(([, item]) => item)
    .sort((a, b) =>
      typeof a === 'number' && typeof b === 'number' ? a - b : String(a) < String(b) ? -1 : 1,
    );
}

/** Everything the user holds, for "nothing else changed" checks. */
export function allHoldings(sim: Simulator, userId: number): Record<string, (number | string)[]> {
  return Object.fromEntries(KINDS.map((k) => [k, holdings(sim, userId, k)]));
}

/** Sets the user's list (or license) directly in the tenant, bypassing HTTP, to arrange a precondition. */
export function arrange(
  sim: Simulator,
  userId: number,
  kind: MembershipType,
  items: (number | string)[],
): void {
  const type = membershipType(kind)!;
  if (type.carrier === 'user-flag') {
    for (const flag of sim.tenant.licenseFlags) sim.tenant.setLicense(userId, flag, items.includes(flag));
    return;
  }
  sim.tenant.updateUser(userId, { [type.userField]: items.map((id) => ({ id })) }, { arrayMode: 'replace' });
}

/** Ids of existing objects of a kind, from ground truth. */
export function existingIds(sim: Simulator, kind: ArrayMembershipType): number[] {
  return truthOf(sim, kind).objects as number[];
}

export function entitlementIdFor(kind: MembershipType, item: number | string): string {
  return entitlementOf(membershipType(kind)!, item);
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
