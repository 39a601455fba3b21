import type { Tenant, UserRecord } from './tenant.js';
import { ASSOCIATIONS } from './associations.js';
import type { GroundTruth } from './types.js';

/** The tenant as a sync should see it: what tests compare a c1z against. */
export function groundTruth(tenant: Tenant): GroundTruth {
  const gt: GroundTruth = {
    users: [],
    userGroups: tenant.userGroups.list.map(({ id, name }) => ({ id, name })),
    approvalGroups: tenant.userGroups.list.filter((g) => g.canApprove).map(({ id, name }) => ({ id, name })),
    roles: tenant.roles.list.map(({ id, name, omnipotent }) => ({ id, name, omnipotent })),
    contentGroups: tenant.contentGroups.list.map(({ id, name }) => ({ id, name })),
    accountGroups: tenant.accountGroups.list.map(({ id, name }) => ({ id, name })),
    licenseFlags: [...tenant.licenseFlags],
    memberships: {
      roles: [],
      userGroups: [],
      approvalGroups: [],
      contentGroups: [],
      accountGroups: [],
      licenses: [],
    },
  };
  const m = gt.memberships;
  for (const u of tenant.users.list) {
    gt.users.push({
      id: u.id,
      login: u.login,
      email: u.email,
      fullname: `${u.firstname} ${u.lastname}`,
      active: u.active,
      apiUser: u.apiUser,
      authenticationMethod: u.authenticationMethod,
      ssoIdentifier: u.ssoIdentifier,
      managerId: u.managerId,
      approvalLimits: approvalLimitsOf(tenant, u),
    });
    for (const assoc of ASSOCIATIONS) {
      if (!assoc.truth) continue;
      const table = tenant[assoc.table];
      for (const id of assoc.idsOf(tenant, u)) if (table.get(id)) m[assoc.truth].push([u.id, id]);
    }
    for (const f of tenant.licensesOf(u)) m.licenses.push([u.id, f]);
  }
  return gt;
}

function approvalLimitsOf(
  tenant: Tenant,
  u: UserRecord,
): Record<string, { amount: string; currency: string }> {
  const out: Record<string, { amount: string; currency: string }> = {};
  for (const [key, id] of Object.entries(u.approvalLimits ?? {})) {
    const limit = id === undefined ? undefined : tenant.approvalLimits.get(id);
    if (limit) out[key] = { amount: limit.amount, currency: limit.currencyCode };
  }
  return out;
}
