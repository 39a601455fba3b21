import type { ResourceType } from '../../c1z/messages.js';
import { ResourceTypeId } from '../ids.js';
import { userResourceType } from '../user-type.js';
import type {
  ArrayMembership,
  FlagMembership,
  ListedResource,
  MembershipTypeDescriptor,
} from './descriptor.js';
import { MEMBERSHIP_TYPES } from './list.js';

/**
 * Everything that follows from the list of membership types. Nothing here names a type: a new
 * descriptor in `list.ts` reaches the sync, provisioning, capabilities and the CLI from here.
 */

export * from './descriptor.js';
export { MEMBERSHIP_TYPES } from './list.js';
export { userGroups, groupMembership } from './group.js';
export { roles, roleMembership } from './role.js';
export { contentGroups, contentGroupMembership } from './content-group.js';
export { accountGroups, accountGroupMembership } from './account-group.js';
export {
  licenseResourceType,
  licenseIdForFlag,
  flagForLicenseId,
  licenseResource,
  licenseEntitlement,
  licenseMembership,
} from './license.js';

/** A membership type's name: `group`, `role`, `license`, … */
export type MembershipType = (typeof MEMBERSHIP_TYPES)[number]['name'];
/** The names of the types held through a user's association array. */
export type ArrayMembershipType = Extract<(typeof MEMBERSHIP_TYPES)[number], ArrayMembership>['name'];

export const ARRAY_MEMBERSHIPS: readonly ArrayMembership[] = MEMBERSHIP_TYPES.filter(
  (t): t is Extract<(typeof MEMBERSHIP_TYPES)[number], ArrayMembership> => t.carrier === 'user-array',
);
export const FLAG_MEMBERSHIPS: readonly FlagMembership[] = MEMBERSHIP_TYPES.filter(
  (t): t is Extract<(typeof MEMBERSHIP_TYPES)[number], FlagMembership> => t.carrier === 'user-flag',
);

/** The resources read from list endpoints, each once, in list order. */
export const LISTED_RESOURCES: readonly ListedResource[] = [
  ...new Set(ARRAY_MEMBERSHIPS.map((m) => m.resource)),
];

/** The array memberships written on `resource`'s objects. */
export function membershipsOf(resource: ListedResource): readonly ArrayMembership[] {
  return ARRAY_MEMBERSHIPS.filter((m) => m.resource === resource);
}

function resourceTypeOf(t: MembershipTypeDescriptor): ResourceType {
  return t.carrier === 'user-array' ? t.resource.resourceType : t.resourceType;
}

/** Every grantable resource type, each once, in list order. */
export const GRANTABLE_RESOURCE_TYPES: readonly ResourceType[] = [
  ...new Map(MEMBERSHIP_TYPES.map((t) => [resourceTypeOf(t).id, resourceTypeOf(t)])).values(),
];

/** Every resource type id a sync writes, users first: the order summaries use. */
export const RESOURCE_TYPE_ORDER: readonly string[] = [
  userResourceType.id,
  ...GRANTABLE_RESOURCE_TYPES.map((rt) => rt.id),
];

/** What several objects of a resource type are called (`user groups`, `licenses`). */
export function pluralOf(resourceTypeId: string): string | undefined {
  if (resourceTypeId === userResourceType.id) return 'users';
  const listed = LISTED_RESOURCES.find((r) => r.id === resourceTypeId);
  if (listed) return listed.spec.plural;
  return FLAG_MEMBERSHIPS.find((f) => f.resourceType.id === resourceTypeId)?.plural;
}

/** The membership type whose entitlements are `<resourceTypeId>:<id>:<slug>`, if any. */
export function membershipTypeFor(
  resourceTypeId: string,
  slug: string,
): MembershipTypeDescriptor | undefined {
  return MEMBERSHIP_TYPES.find((t) => resourceTypeOf(t).id === resourceTypeId && t.entitlement.slug === slug);
}

/** The membership type an entitlement id belongs to (`group:10:member` → group), if any. */
export function membershipTypeOfEntitlement(entitlementId: string): MembershipTypeDescriptor | undefined {
  const parsed = parseEntitlementId(entitlementId);
  return parsed && membershipTypeFor(parsed.resourceType, parsed.slug);
}

/**
 * The slug an entitlement of this resource type has when nobody says (the first membership type
 * of the resource in the list: `member` for groups); undefined for a type nothing is granted on.
 */
export function defaultSlugFor(resourceTypeId: string): string | undefined {
  return MEMBERSHIP_TYPES.find((t) => resourceTypeOf(t).id === resourceTypeId)?.entitlement.slug;
}

/** The membership type by name. */
export function membershipType(name: string): MembershipTypeDescriptor | undefined {
  return MEMBERSHIP_TYPES.find((t) => t.name === name);
}

/** The array membership a user field carries (journal entries name the field). */
export function membershipOfField(field: string): ArrayMembership | undefined {
  return ARRAY_MEMBERSHIPS.find((m) => m.userField === field);
}

/** `group:<id>:member, role:<id>:member, license:<license id>:assigned, …` for hints. */
export function entitlementIdPatterns(): string[] {
  return MEMBERSHIP_TYPES.map((t) =>
    t.carrier === 'user-array'
      ? `${t.resource.id}:<id>:${t.entitlement.slug}`
      : `${t.resourceType.id}:<${t.noun} id>:${t.entitlement.slug}`,
  );
}

export interface ParsedEntitlementId {
  resourceType: string;
  resourceId: string;
  slug: string;
}

export interface ParsedGrantId extends ParsedEntitlementId {
  entitlementId: string;
  principalType: 'user';
  principalId: string;
}

/**
 * Parses an entitlement id this connector (or baton-coupa) issues: `<type>:<id>:<slug>` where the
 * type and slug are one of the list's. There is no escaping in baton ids, so the type is the text
 * before the first ':', the slug the text after the last, and the resource id what lies between.
 * Returns undefined for anything else, so callers can report the id they were given.
 */
export function parseEntitlementId(id: string): ParsedEntitlementId | undefined {
  const first = id.indexOf(':');
  const last = id.lastIndexOf(':');
  if (first <= 0 || last <= first + 1 || last === id.length - 1) return undefined;
  const resourceType = id.slice(0, first);
  const resourceId = id.slice(first + 1, last);
  const slug = id.slice(last + 1);
  if (!membershipTypeFor(resourceType, slug)) return undefined;
  return { resourceType, resourceId, slug };
}

/** Parses `<entitlement id>:user:<uid>`; users are the only principals this connector grants to. */
export function parseGrantId(id: string): ParsedGrantId | undefined {
  const marker = id.lastIndexOf(`:${ResourceTypeId.user}:`);
  if (marker <= 0) return undefined;
  const principalId = id.slice(marker + ResourceTypeId.user.length + 2);
  if (!/^\d+$/.test(principalId)) return undefined;
  const entId = id.slice(0, marker);
  const ent = parseEntitlementId(entId);
  if (!ent) return undefined;
  return { ...ent, entitlementId: entId, principalType: 'user', principalId };
}
