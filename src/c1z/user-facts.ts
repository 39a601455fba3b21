/**
 * What an access reviewer wants to know about a user resource, read from its UserTrait and profile.
 * Works on our files and on baton-coupa's (whose profile holds only id, email, full_name and
 * active): a fact the file does not carry is left undefined rather than guessed.
 */
import type { JsonObject, JsonValue } from '@bufbuild/protobuf';
import { findAnnotation } from './any.js';
import {
  RoleTraitSchema,
  UserTrait_AccountType,
  UserTrait_Status_Status,
  UserTraitSchema,
  type Resource,
} from './messages.js';

export type UserStatus = 'enabled' | 'disabled' | 'deleted' | 'unknown';
export type AccountType = 'human' | 'service' | 'system' | 'unknown';

export interface ApprovalLimitFact {
  /** Decimal text as Coupa wrote it ("5000.00"); never rounded through a double. */
  amount?: string;
  currency?: string;
}

export interface UserFacts {
  id: string;
  displayName: string;
  login: string;
  email: string;
  status: UserStatus;
  accountType: AccountType;
  managerId?: string;
  managerLogin?: string;
  employeeNumber?: string;
  /** Coupa's `authentication-method`: coupa_credentials, ldap or saml. */
  authenticationMethod?: string;
  ssoIdentifier?: string;
  /** true/false when the file says; undefined when it carries no sign-in facts (e.g. baton-coupa's files). */
  sso?: boolean;
  /** Keyed like the profile: requisition_approval_limit, expense_self_approval_limit, … */
  approvalLimits: Record<string, ApprovalLimitFact>;
  /** The user is referenced by grants but absent from the file. */
  missing?: boolean;
  /**
   * The file says whether this is an API user (Coupa's api-user in the profile, or a SERVICE
   * account type). baton-coupa's files do not: they leave API users out and mark the rest human.
   */
  apiUserKnown?: boolean;
}

const STATUS: Record<number, UserStatus> = {
  [UserTrait_Status_Status.ENABLED]: 'enabled',
  [UserTrait_Status_Status.DISABLED]: 'disabled',
  [UserTrait_Status_Status.DELETED]: 'deleted',
};
const ACCOUNT_TYPE: Record<number, AccountType> = {
  [UserTrait_AccountType.HUMAN]: 'human',
  [UserTrait_AccountType.SERVICE]: 'service',
  [UserTrait_AccountType.SYSTEM]: 'system',
};

/** Sign-in methods that go through the identity provider. */
export const SSO_METHODS: readonly string[] = ['saml'];

function text(v: JsonValue | undefined): string | undefined {
  if (typeof v === 'string') return v.trim() || undefined;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return undefined;
}

export function userFacts(resource: Resource): UserFacts {
  const trait = findAnnotation(resource.annotations, UserTraitSchema);
  const profile: JsonObject = trait?.profile ?? {};
  const primary = trait?.emails.find((e) => e.isPrimary) ?? trait?.emails[0];
  const email = primary?.address || text(profile.email) || '';
  const authenticationMethod = text(profile.authentication_method);
  let status = trait?.status ? (STATUS[trait.status.status] ?? 'unknown') : 'unknown';
  if (status === 'unknown' && typeof profile.active === 'boolean')
    status = profile.active ? 'enabled' : 'disabled';
  let accountType = trait ? (ACCOUNT_TYPE[trait.accountType] ?? 'unknown') : 'unknown';
  // baton-coupa marks every user HUMAN; the profile's api_user is the better witness where present.
  if (profile.api_user === true) accountType = 'service';
  const apiUserKnown = typeof profile.api_user === 'boolean' || accountType === 'service';
  const approvalLimits: Record<string, ApprovalLimitFact> = {};
  for (const [key, value] of Object.entries(profile)) {
    if (!key.endsWith('_approval_limit') || !value || typeof value !== 'object' || Array.isArray(value))
      continue;
    const v = value as JsonObject;
    approvalLimits[key] = { amount: text(v.amount), currency: text(v.currency) };
  }
  return {
    id: resource.id?.resource ?? '',
    displayName: resource.displayName,
    login: trait?.login || text(profile.login) || email,
    email,
    status,
    accountType,
    managerId: text(profile.manager_id),
    managerLogin: text(profile.manager_login),
    employeeNumber: text(profile.employee_number),
    authenticationMethod,
    ssoIdentifier: text(profile.sso_identifier),
    sso:
      trait?.ssoStatus !== undefined
        ? trait.ssoStatus.ssoEnabled
        : authenticationMethod !== undefined
          ? SSO_METHODS.includes(authenticationMethod)
          : undefined,
    approvalLimits,
    apiUserKnown,
  };
}

/** A user referenced by grants but absent from the file (baton-coupa skips API users, yet keeps their grants). */
export function missingUser(id: string): UserFacts {
  return {
    id,
    displayName: '',
    login: '',
    email: '',
    status: 'unknown',
    accountType: 'unknown',
    approvalLimits: {},
    missing: true,
  };
}

/** Coupa's admin marker on a role (`omnipotent`), from the RoleTrait profile; undefined when not recorded. */
export function roleOmnipotent(resource: Resource): boolean | undefined {
  const v = findAnnotation(resource.annotations, RoleTraitSchema)?.profile?.omnipotent;
  return typeof v === 'boolean' ? v : undefined;
}

/** `requisition_self_approval_limit` → `Requisition self-approval limit`. */
export function approvalLimitLabel(key: string): string {
  const words = key.replace(/_approval_limit$/, '').split('_');
  const self = words[words.length - 1] === 'self';
  const subject = (self ? words.slice(0, -1) : words).join(' ');
  const label = `${subject} ${self ? 'self-approval' : 'approval'} limit`;
  return label[0]!.toUpperCase() + label.slice(1);
}

export function approvalLimitText(limit: ApprovalLimitFact): string {
  return [limit.amount, limit.currency].filter(Boolean).join(' ') || '(set, no amount)';
}
