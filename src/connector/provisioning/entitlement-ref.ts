import { parseEntitlementId, parseGrantId, ResourceTypeId } from '../ids.js';
import { flagForLicenseId } from '../license.js';
import { LICENSE_FLAGS } from '../../coupa/models.js';
import { UnknownEntitlementError, UnknownUserError } from './errors.js';

/**
 * What an entitlement id means for a write: which array (or flag) of the Coupa user changes, and
 * where the referenced object lives for an existence check.
 */
export type MembershipType = 'role' | 'group' | 'content_group' | 'account_group';

export interface MembershipTarget {
  membership: MembershipType;
  entitlementId: string;
  /** Coupa id of the role/group/content group/account group. */
  id: number;
}

export interface LicenseTarget {
  license: true;
  entitlementId: string;
  /** baton-coupa's license resource id (`treasury_user`, `expense-user`, …). */
  licenseId: string;
  /** Coupa's hyphenated user key (`treasury-user`). */
  flag: string;
}

export type EntitlementTarget = MembershipTarget | LicenseTarget;

export interface MembershipInfo {
  /** Key in user JSON output and PUT bodies. */
  field: 'roles' | 'user-groups' | 'content-groups' | 'account-groups';
  /** Index/show path of the referenced objects. */
  resourcePath: string;
  /** Singular for messages. */
  noun: string;
}

export const MEMBERSHIPS: Record<MembershipType, MembershipInfo> = {
  role: { field: 'roles', resourcePath: '/api/roles', noun: 'role' },
  group: { field: 'user-groups', resourcePath: '/api/user_groups', noun: 'user group' },
  content_group: { field: 'content-groups', resourcePath: '/api/business_groups', noun: 'content group' },
  account_group: { field: 'account-groups', resourcePath: '/api/account_groups', noun: 'account group' },
};

/** The Coupa flag a license resource id stands for (the sync's mapping, read backwards), if any. */
export function licenseFlagFor(licenseId: string): string | undefined {
  const flag = flagForLicenseId(licenseId);
  return (LICENSE_FLAGS as readonly string[]).includes(flag) ? flag : undefined;
}

export function resolveEntitlement(entitlementId: string): EntitlementTarget {
  const parsed = parseEntitlementId(entitlementId.trim());
  if (!parsed) throw new UnknownEntitlementError(entitlementId, 'not an entitlement id of this connector');
  if (parsed.resourceType === ResourceTypeId.license) {
    const flag = licenseFlagFor(parsed.resourceId);
    if (!flag) {
      throw new UnknownEntitlementError(
        entitlementId,
        `"${parsed.resourceId}" is not a Coupa license`,
        `Known licenses: ${LICENSE_FLAGS.join(', ')} (baton-coupa spells treasury as treasury_user).`,
      );
    }
    return { license: true, entitlementId: entitlementId.trim(), licenseId: parsed.resourceId, flag };
  }
  if (!isExactId(parsed.resourceId)) {
    throw new UnknownEntitlementError(
      entitlementId,
      `"${parsed.resourceId}" is not a Coupa id (a positive integer up to 2^53 - 1, which is exact)`,
    );
  }
  return {
    membership: parsed.resourceType,
    entitlementId: entitlementId.trim(),
    id: Number(parsed.resourceId),
  };
}

/** A grant id names both the entitlement and the user: `<entitlement id>:user:<uid>`. */
export function resolveGrant(grantId: string): { target: EntitlementTarget; userId: number } {
  const parsed = parseGrantId(grantId.trim());
  if (!parsed) {
    throw new UnknownEntitlementError(
      grantId,
      'not a grant id of this connector',
      'Grant ids look like <entitlement id>:user:<user id>, e.g. role:4:member:user:12.',
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
