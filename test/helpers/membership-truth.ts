import { MEMBERSHIP_TYPES, type MembershipTypeDescriptor } from '../../src/connector/types/index.js';
import { association } from '../../src/simulator/associations.js';
import type { GroundTruth } from '../../src/simulator/index.js';

/**
 * The simulator's ground truth per membership type. The types come from the list (MEMBERSHIP_TYPES)
 * and reach the ground truth through the simulator's association table (by user field), so a type
 * added to the list is expected by every test that enumerates types, with no line here. The ids
 * are built from the descriptors' resource type ids and slugs (only the license id mapping is
 * written out here); test/connector/entitlement-ids.test.ts pins every type's id as a literal, so
 * a changed prefix or slug, or a type dropped from the list, still fails.
 */

/**
 * baton-coupa's license ids: the user's output key, except its one underscore spelling. Written
 * out here rather than imported so the tests do not take the mapping from the code they check.
 */
export function expectedLicenseId(flag: string): string {
  return flag === 'treasury-user' ? 'treasury_user' : flag;
}

/** A membership object: a record id, or a license flag (the user's output key). */
export type Item = number | string;

export interface TypeTruth {
  type: MembershipTypeDescriptor;
  /** Read only with a scope the sync may lack (account groups): left out of a sync without it. */
  optional: boolean;
  /** The objects that carry the type's entitlement. */
  objects: Item[];
  /** (user id, object) for every grant of the type. */
  holders: Array<[number, Item]>;
  /** `<resource type>:<resource id>` of an object. */
  resourceOf(item: Item): string;
  /** `<resource type>:<resource id>:<slug>` of an object. */
  entitlementOf(item: Item): string;
}

/** `<resource type>:<resource id>` of an object of the type. */
export function resourceOf(type: MembershipTypeDescriptor, item: Item): string {
  return type.carrier === 'user-array'
    ? `${type.resource.id}:${item}`
    : `${type.resourceType.id}:${expectedLicenseId(String(item))}`;
}

/** `<resource type>:<resource id>:<slug>`: the entitlement of an object of the type. */
export function entitlementOf(type: MembershipTypeDescriptor, item: Item): string {
  return `${resourceOf(type, item)}:${type.entitlement.slug}`;
}

export function typeTruth(gt: GroundTruth, type: MembershipTypeDescriptor): TypeTruth {
  const common = {
    type,
    resourceOf: (item: Item) => resourceOf(type, item),
    entitlementOf: (item: Item) => entitlementOf(type, item),
  };
  if (type.carrier === 'user-flag') {
    return { ...common, optional: false, objects: gt.licenseFlags, holders: gt.memberships.licenses };
  }
  const key = association(type.userField).truth;
  if (!key) throw new Error(`The simulator's ground truth has no list for ${type.userField}`);
  return {
    ...common,
    optional: type.resource.spec.optionalScope !== undefined,
    objects: gt[key].map((o) => o.id),
    holders: gt.memberships[key],
  };
}

/** Every membership type's ground truth, in list order. */
export function truthByType(gt: GroundTruth): TypeTruth[] {
  return MEMBERSHIP_TYPES.map((t) => typeTruth(gt, t));
}
