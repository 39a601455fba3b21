/**
 * The id conventions baton-sdk's helpers produce (`NewEntitlementID`, `NewGrant`), spelled out so
 * that files from this connector and from baton-coupa line up id for id. There is no escaping in
 * baton ids, so parsing relies on knowing the membership types, so it lives with their list
 * (`types/index.ts`: parseEntitlementId, parseGrantId).
 */

export const ResourceTypeId = {
  user: 'user',
  group: 'group',
  role: 'role',
  license: 'license',
  contentGroup: 'content_group',
  accountGroup: 'account_group',
} as const;
export type ResourceTypeId = (typeof ResourceTypeId)[keyof typeof ResourceTypeId];

/** `member` for every group-like type, `assigned` for licenses, as baton-coupa names them. */
export const Slug = { member: 'member', assigned: 'assigned' } as const;
export type Slug = (typeof Slug)[keyof typeof Slug];

/** `<type>:<id>:<slug>`, e.g. `group:10:member`, `license:treasury_user:assigned`. */
export function entitlementId(resourceType: string, resourceId: string, slug: string): string {
  return `${resourceType}:${resourceId}:${slug}`;
}

/** `<entitlement id>:<principal type>:<principal id>`, e.g. `group:10:member:user:42`. */
export function grantId(
  entId: string,
  principalId: string,
  principalType: string = ResourceTypeId.user,
): string {
  return `${entId}:${principalType}:${principalId}`;
}
