import type { ZodType } from 'zod';
import {
  AccountGroupSchema,
  APPROVAL_LIMIT_KEYS,
  ContentGroupSchema,
  LICENSE_FLAGS,
  RoleSchema,
  UserGroupSchema,
} from '../coupa/models.js';
import type { CoupaClient } from '../coupa/client.js';
import type { FieldSpec } from '../coupa/fields.js';
import { PAGE_SIZE } from '../coupa/paginate.js';
import type { CoupaNamedObject, GroupLikeKind } from './group-like.js';
import { userGroupKind } from './group.js';
import { roleKind } from './role.js';
import { contentGroupKind } from './content-group.js';
import { accountGroupKind } from './account-group.js';

/**
 * What the sync asks Coupa for: which endpoints, with which `fields` projection, and what that
 * costs at best.
 */

/**
 * The fewest requests that can read a tenant: one token, then every list in pages of 50. A list
 * always costs at least one request, even when empty, because only asking tells it is empty.
 */
export function requestFloor(counts: {
  users: number;
  userGroups: number;
  roles: number;
  contentGroups: number;
  accountGroups?: number;
}): number {
  const pages = (n: number) => Math.max(1, Math.ceil(n / PAGE_SIZE));
  return (
    1 +
    pages(counts.users) +
    pages(counts.userGroups) +
    pages(counts.roles) +
    pages(counts.contentGroups) +
    (counts.accountGroups === undefined ? 0 : pages(counts.accountGroups))
  );
}

const REF_FIELDS: FieldSpec = ['id', 'name'];
const LIMIT_FIELDS: FieldSpec = ['id', 'amount', { currency: ['code'] }];

/**
 * Exactly what the mapping reads from a user, so that a page of 50 users stays small: identity,
 * status, manager, approval limits, the four membership lists and every license flag.
 */
export function userFields(includeAccountGroups: boolean): FieldSpec {
  return [
    'id',
    'login',
    'email',
    'firstname',
    'lastname',
    'fullname',
    'active',
    'api-user',
    'employee-number',
    'created-at',
    'updated-at',
    { manager: ['id', 'login'] },
    ...APPROVAL_LIMIT_KEYS.map((k) => ({ [k]: LIMIT_FIELDS })),
    { roles: REF_FIELDS },
    { 'user-groups': REF_FIELDS },
    { 'content-groups': REF_FIELDS },
    ...(includeAccountGroups ? [{ 'account-groups': REF_FIELDS }] : []),
    ...LICENSE_FLAGS,
  ];
}

export interface SmallList {
  kind: GroupLikeKind;
  path: string;
  schema: ZodType<CoupaNamedObject & { id: number }>;
  fields: FieldSpec;
}

export const USER_GROUPS: SmallList = {
  kind: userGroupKind,
  path: '/api/user_groups',
  schema: UserGroupSchema,
  fields: ['id', 'name', 'description'],
};
export const ROLES: SmallList = {
  kind: roleKind,
  path: '/api/roles',
  schema: RoleSchema,
  fields: ['id', 'name', 'description'],
};
export const CONTENT_GROUPS: SmallList = {
  kind: contentGroupKind,
  path: '/api/business_groups',
  schema: ContentGroupSchema,
  fields: ['id', 'name', 'description'],
};
export const ACCOUNT_GROUPS: SmallList = {
  kind: accountGroupKind,
  path: '/api/account_groups',
  schema: AccountGroupSchema,
  fields: ['id', 'name'],
};

/** Concurrent lanes per small list, below its top page; four lists at once stay under the rate limit anyway. */
const LIST_LANES = 4;

export async function readList(
  client: Pick<CoupaClient, 'paginate'>,
  list: SmallList,
): Promise<CoupaNamedObject[]> {
  const out: CoupaNamedObject[] = [];
  // From the top: a list of exactly 50 (or 100…) then costs its floor, not one empty page more, and
  // what lies below the top page is read in lanes (1,000 groups are 21 pages: one after the other
  // at 100 ms latency they would hold up the users walk for two seconds). A group or role created
  // while it is read is still written if a user holds it (from the user's embedded reference), so
  // nothing is lost by not looking above the top page again.
  const pages = client.paginate(list.path, {
    itemSchema: list.schema,
    fields: list.fields,
    topFirst: true,
    lanes: LIST_LANES,
  });
  for await (const page of pages) {
    out.push(...page);
  }
  return out;
}
