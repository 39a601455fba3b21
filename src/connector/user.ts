import { create, type JsonObject, type JsonValue } from '@bufbuild/protobuf';
import {
  ResourceSchema,
  Resource_CreationSource,
  UserTraitSchema,
  UserTrait_AccountType,
  UserTrait_Status_Status,
  type Resource,
} from '../c1z/messages.js';
import { packAnnotation } from '../c1z/any.js';
import { APPROVAL_LIMIT_KEYS, type ApprovalLimit, type User } from '../coupa/models.js';
import { ResourceTypeId } from './ids.js';

export { userResourceType } from './user-type.js';

/** `requisition-approval-limit` → `requisition_approval_limit`: profile keys use underscores like baton-coupa's. */
function profileKey(outputKey: string): string {
  return outputKey.replace(/-/g, '_');
}

/**
 * Coupa writes decimals as strings ("1000.00"); they stay strings so that no amount is rounded
 * through a double. The currency is the ISO code.
 */
function approvalLimitJson(limit: ApprovalLimit): JsonObject {
  const out: JsonObject = {};
  if (limit.amount !== undefined && limit.amount !== null) out.amount = String(limit.amount);
  if (limit.currency?.code) out.currency = limit.currency.code;
  return out;
}

/**
 * The user's profile Struct. It keeps baton-coupa's four keys (id, email, full_name, active) so
 * that consumers of its files keep working, and adds what access reviews need: login, names,
 * employee number, manager, sign-in method and SSO identifier, approval and self-approval limits
 * and timestamps. Absent or null values are left out
 * rather than written as nulls.
 */
export function userProfile(user: User): JsonObject {
  const profile: JsonObject = { id: user.id };
  const put = (key: string, value: JsonValue | null | undefined) => {
    if (value !== undefined && value !== null && value !== '') profile[key] = value;
  };
  put('login', user.login);
  put('email', user.email);
  put('first_name', user.firstname);
  put('last_name', user.lastname);
  put('full_name', user.fullname);
  put('active', user.active ?? undefined);
  put('api_user', user['api-user'] ?? undefined);
  put('employee_number', user['employee-number']);
  put('manager_id', user.manager?.id);
  put('manager_login', user.manager?.login);
  // Governance: how the user signs in (an SSO bypass shows as coupa_credentials) and as whom.
  put('authentication_method', user['authentication-method']?.trim());
  put('sso_identifier', user['sso-identifier']?.trim());
  for (const key of APPROVAL_LIMIT_KEYS) {
    const limit = user[key];
    if (limit) {
      const json = approvalLimitJson(limit);
      if (Object.keys(json).length > 0) profile[profileKey(key)] = json;
    }
  }
  put('created_at', user['created-at']);
  put('updated_at', user['updated-at']);
  return profile;
}

/** Sign-in methods that go through the identity provider: Coupa's SAML single sign-on. */
const SSO_METHODS = new Set(['saml']);

function ssoStatus(user: User): { ssoEnabled: boolean } | undefined {
  const method = user['authentication-method']?.trim();
  return method ? { ssoEnabled: SSO_METHODS.has(method) } : undefined;
}

export function userDisplayName(user: User): string {
  return user.fullname?.trim() || user.login?.trim() || `user ${user.id}`;
}

/**
 * A Coupa user as a baton user resource. API users are kept, as SERVICE accounts: dropping them
 * (as baton-coupa does) would leave their grants pointing at nothing.
 */
export function userToResource(user: User): Resource {
  const email = user.email?.trim();
  const trait = create(UserTraitSchema, {
    emails: email ? [{ address: email, isPrimary: true }] : [],
    status: {
      status: user.active === false ? UserTrait_Status_Status.DISABLED : UserTrait_Status_Status.ENABLED,
    },
    profile: userProfile(user),
    accountType: user['api-user'] ? UserTrait_AccountType.SERVICE : UserTrait_AccountType.HUMAN,
    login: user.login,
    // baton's own SSO flag, so ConductorOne shows it; only set when Coupa said how the user signs in.
    ssoStatus: ssoStatus(user),
  });
  return create(ResourceSchema, {
    id: { resourceType: ResourceTypeId.user, resource: String(user.id) },
    displayName: userDisplayName(user),
    annotations: [packAnnotation(UserTraitSchema, trait)],
    creationSource: Resource_CreationSource.CONNECTOR_LIST_RESOURCES,
  });
}
