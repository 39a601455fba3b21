import {
  entitlementIdPatterns,
  licenseMembership,
  membershipTypeFor,
  parseEntitlementId,
  parseGrantId,
  type ArrayMembership,
  type FlagMembership,
} from '../types/index.js';
import { UnknownEntitlementError, UnknownUserError } from './errors.js';

/**
 * What an entitlement id means for a write: which array (or flag) of the Coupa user changes, and
 * where the referenced object lives for an existence check. Both come from the membership type's
 * descriptor.
 */
export interface MembershipTarget {
  membership: ArrayMembership;
  entitlementId: string;
  /** Coupa id of the role/group/content group/account group. */
  id: number;
}

export interface FlagTarget {
  flagMembership: FlagMembership;
  entitlementId: string;
  /** The resource id (baton-coupa's license id: `treasury_user`, `expense-user`, …). */
  resourceId: string;
  /** Coupa's hyphenated user key (`treasury-user`). */
  flag: string;
}

export type EntitlementTarget = MembershipTarget | FlagTarget;

/** The Coupa flag a license resource id stands for (the sync's mapping, read backwards), if any. */
export function licenseFlagFor(licenseId: string): string | undefined {
  return licenseMembership.flagFor(licenseId);
}

export function resolveEntitlement(entitlementId: string): EntitlementTarget {
  const id = entitlementId.trim();
  const parsed = parseEntitlementId(id);
  const type = parsed && membershipTypeFor(parsed.resourceType, parsed.slug);
  if (!parsed || !type)
    throw new UnknownEntitlementError(entitlementId, 'not an entitlement id of this connector');
  if (type.carrier === 'user-flag') {
    const flag = type.flagFor(parsed.resourceId);
    if (!flag) {
      throw new UnknownEntitlementError(
        entitlementId,
        `"${parsed.resourceId}" is not a Coupa ${type.noun}`,
        `Known ${type.plural}: ${type.flags.join(', ')} (baton-coupa spells treasury as treasury_user).`,
      );
    }
    return { flagMembership: type, entitlementId: id, resourceId: parsed.resourceId, flag };
  }
  if (!isExactId(parsed.resourceId)) {
    throw new UnknownEntitlementError(
      entitlementId,
      `"${parsed.resourceId}" is not a Coupa id (a positive integer up to 2^53 - 1, which is exact)`,
    );
  }
  return { membership: type, entitlementId: id, id: Number(parsed.resourceId) };
}

/** A grant id names both the entitlement and the user: `<entitlement id>:user:<uid>`. */
export function resolveGrant(grantId: string): { target: EntitlementTarget; userId: number } {
  const parsed = parseGrantId(grantId.trim());
  if (!parsed) {
    throw new UnknownEntitlementError(
      grantId,
      'not a grant id of this connector',
      `Grant ids look like <entitlement id>:user:<user id>, e.g. ${entitlementIdPatterns()[0]!.replace('<id>', '4')}:user:12.`,
    );
  }
  return { target: resolveEntitlement(parsed.entitlementId), userId: parseUserId(parsed.principalId) };
}

export function parseUserId(value: string | number): number {
  const text = String(value).trim();
  if (!isExactId(text))
    throw new UnknownUserError(text, 'a Coupa user id is a positive integer up to 2^53 - 1', {
      malformed: true,
    });
  return Number(text);
}

/** Digits only, and small enough that Number() keeps every one of them. */
function isExactId(text: string): boolean {
  return /^[1-9]\d{0,15}$/.test(text) && Number.isSafeInteger(Number(text));
}
