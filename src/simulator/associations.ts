import type { Tenant, UserRecord } from './tenant.js';
import type { GroundTruth } from './types.js';

/**
 * The user's association arrays, one row each: which records an array names, how Coupa calls them
 * in errors, and how the user's ids are read and written. User writes, the API's output, record
 * removal and the ground truth all go through this table, so an array is declared once.
 */
export type AssocKey = 'roles' | 'user-groups' | 'content-groups' | 'account-groups' | 'approval-groups';
export type AssocTable = 'roles' | 'userGroups' | 'contentGroups' | 'accountGroups';

export interface Association {
  key: AssocKey;
  /** The tenant table the array's items live in. */
  table: AssocTable;
  /** Record type in Coupa's "Unable to find valid <Type> record" errors. */
  typeName: string;
  /** Only records passing this may be named by the array (approval groups: `can-approve`). */
  accepts?(record: { id: number; name: string }): boolean;
  /** Where the ground truth lists the (user, record) pairs of this array, if it does. */
  truth?: keyof Omit<GroundTruth['memberships'], 'licenses'>;
  /** The ids the user holds through the array, sorted. */
  idsOf(tenant: Tenant, user: UserRecord): number[];
  /** Makes them exactly `ids` (user-group links go through the tenant, which keeps memberships aligned). */
  setIds(tenant: Tenant, user: UserRecord, ids: number[], now: number): void;
}

type IdsField = 'roleIds' | 'contentGroupIds' | 'accountGroupIds';

/** An array kept as its own id list on the user record. */
function ownList(def: Omit<Association, 'idsOf' | 'setIds'>, field: IdsField): Association {
  return {
    ...def,
    idsOf: (_t, u) => u[field],
    setIds: (_t, u, ids) => {
      u[field] = [...ids].sort((a, b) => a - b);
    },
  };
}

const canApprove = (tenant: Tenant, id: number) => tenant.userGroups.get(id)?.canApprove === true;

export const ASSOCIATIONS: readonly Association[] = [
  ownList({ key: 'roles', truth: 'roles', table: 'roles', typeName: 'Role' }, 'roleIds'),
  {
    key: 'user-groups',
    truth: 'userGroups',
    table: 'userGroups',
    typeName: 'UserGroup',
    idsOf: (_t, u) => u.userGroupIds,
    setIds: (t, u, ids, now) => t.setUserGroups(u, ids, now),
  },
  {
    // Approval groups are the user's groups that can approve: a view of `user-groups`, and a write
    // touches only that subset of the user's groups.
    key: 'approval-groups',
    truth: 'approvalGroups',
    table: 'userGroups',
    typeName: 'ApprovalGroup',
    accepts: (g) => (g as { canApprove?: boolean }).canApprove === true,
    idsOf: (t, u) => u.userGroupIds.filter((g) => canApprove(t, g)),
    setIds: (t, u, ids, now) =>
      t.setUserGroups(u, [...new Set([...u.userGroupIds.filter((g) => !canApprove(t, g)), ...ids])], now),
  },
  ownList(
    { key: 'content-groups', truth: 'contentGroups', table: 'contentGroups', typeName: 'BusinessGroup' },
    'contentGroupIds',
  ),
  ownList(
    { key: 'account-groups', truth: 'accountGroups', table: 'accountGroups', typeName: 'AccountGroup' },
    'accountGroupIds',
  ),
];

export const ASSOC_KEYS: readonly AssocKey[] = ASSOCIATIONS.map((a) => a.key);

export function association(key: AssocKey): Association {
  return ASSOCIATIONS.find((a) => a.key === key)!;
}
