import type { TenantSpec } from '../../src/simulator/index.js';
import { requestFloor as syncRequestFloor } from '../../src/connector/reads.js';

/**
 * The tenant shape benchmarked at each size. The small lists grow with the tenant (a 100k-user
 * Coupa has hundreds of groups, not the generator's default dozen), so their pages are part of
 * the measured request plan; their counts still come from the simulator's ground truth. The +3/+7
 * keep them off multiples of 50, where a list needs one extra, empty page to see its end: that
 * edge case is already on show in the user counts the issue fixes (1k, 10k, 100k).
 */
export function tenantFor(users: number): TenantSpec {
  return {
    seed: 7,
    users,
    userGroups: Math.max(12, Math.round(users / 100) + 3),
    roles: Math.max(10, Math.round(users / 1000) + 7),
    contentGroups: Math.max(6, Math.round(users / 500) + 3),
    accountGroups: Math.max(5, Math.round(users / 1000) + 3),
  };
}

/**
 * What the benchmark needs from the simulator's ground truth (counted in bench/sim-child.mjs): list
 * sizes and the grants a sync must write.
 */
export interface TruthCounts {
  users: number;
  userGroups: number;
  roles: number;
  contentGroups: number;
  accountGroups: number;
  licenseFlags: number;
  grants: number;
}

/** The request floor of issue 12 for the tenant (src/connector/reads.ts): ⌊n/50⌋ + 1 per list, plus the token. */
export function requestFloor(t: TruthCounts): number {
  return syncRequestFloor({
    users: t.users,
    lists: {
      userGroups: t.userGroups,
      roles: t.roles,
      contentGroups: t.contentGroups,
      accountGroups: t.accountGroups,
    },
  });
}
