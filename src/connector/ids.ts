/**
 * The id conventions baton-sdk's helpers produce (`NewEntitlementID`, `NewGrant`), spelled out so
 * that files from this connector and from baton-coupa line up id for id. There is no escaping in
 * baton ids, so parsing relies on knowing the resource types: the type is the text before the
 * first ':', the slug is one of ours, and the resource id is what lies between.
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

export const ALL_RESOURCE_TYPE_IDS: readonly ResourceTypeId[] = Object.values(ResourceTypeId);

/** `member` for every group-like type, `assigned` for licenses, as baton-coupa names them. */
export const Slug = { member: 'member', assigned: 'assigned' } as const;
export type Slug = (typeof Slug)[keyof typeof Slug];

export function slugFor(type: Exclude<ResourceTypeId, 'user'>): Slug {
  return type === ResourceTypeId.license ? Slug.assigned : Slug.member;
}

export function isResourceTypeId(value: string): value is ResourceTypeId {
  return (ALL_RESOURCE_TYPE_IDS as readonly string[]).includes(value);
}

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

export interface ParsedEntitlementId {
  resourceType: Exclude<ResourceTypeId, 'user'>;
  resourceId: string;
  slug: Slug;
}

export interface ParsedGrantId extends ParsedEntitlementId {
  entitlementId: string;
  principalType: 'user';
  principalId: string;
}

/**
 * Parses an entitlement id this connector (or baton-coupa) issues. Returns undefined for anything
 * else, so callers can report the id they were given instead of a parse failure.
 */
export function parseEntitlementId(id: string): ParsedEntitlementId | undefined {
  const first = id.indexOf(':');
  const last = id.lastIndexOf(':');
  if (first <= 0 || last <= first + 1 || last === id.length - 1) return undefined;
  const type = id.slice(0, first);
  const resourceId = id.slice(first + 1, last);
  const slug = id.slice(last + 1);
  if (!isResourceTypeId(type) || type === ResourceTypeId.user) return undefined;
  if (slug !== slugFor(type)) return undefined;
  return { resourceType: type, resourceId, slug };
}

/** Parses `<entitlement id>:user:<uid>`; users are the only principals this connector grants to. */
export function parseGrantId(id: string): ParsedGrantId | undefined {
  const marker = id.lastIndexOf(':user:');
  if (marker <= 0) return undefined;
  const principalId = id.slice(marker + ':user:'.length);
  if (!/^\d+$/.test(principalId)) return undefined;
  const entId = id.slice(0, marker);
  const ent = parseEntitlementId(entId);
  if (!ent) return undefined;
  return { ...ent, entitlementId: entId, principalType: 'user', principalId };
}
