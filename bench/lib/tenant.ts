import type { TenantSpec } from '../../src/simulator/index.js';

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

/**
 * The fewest requests that can read the tenant at 50 records a page: one token request plus the
 * pages of each list. An empty list still costs its one (empty) page, since only asking tells.
 */
export function requestFloor(t: TruthCounts): number {
  const pages = (n: number) => Math.max(1, Math.ceil(n / 50));
  return (
    1 +
    pages(t.users) +
    pages(t.userGroups) +
    pages(t.roles) +
    pages(t.contentGroups) +
    pages(t.accountGroups)
  );
}
