/**
 * OAuth scopes. The read set is baton-coupa's minus `core.business_entity.read`, which no call of
 * this connector needs; asking for fewer scopes than an OAuth client was set up with always works,
 * so a client configured for baton-coupa works unchanged. The OIDC scopes (email login openid
 * profile) grant no API objects; they are kept so the request matches baton-coupa's exactly apart
 * from the dropped scope, i.e. nothing an existing OAuth client was not already set up for.
 */
export const READ_SCOPES: string[] = [
  'core.common.read',
  'core.user_group.read',
  'core.user.read',
  'email',
  'login',
  'openid',
  'profile',
];

/** Account groups only; requested when they are synced, so tenants without it still sync the rest. */
export const ACCOUNTING_READ_SCOPE = 'core.accounting.read';

/** Only requested with --provisioning. */
export const WRITE_SCOPES: string[] = ['core.user.write', 'core.user_group.write'];

/** Best guess of the scope a call needs, for 401/403 messages (scope table of docs/coupa-api.md §2). */
export function scopeFor(method: string, path: string): string | undefined {
  const write = method !== 'GET' && method !== 'HEAD';
  const right = write ? 'write' : 'read';
  const resource = /^\/api\/([a-z_]+)/.exec(path)?.[1];
  switch (resource) {
    case 'users':
      return `core.user.${right}`;
    case 'user_groups':
    case 'user_group_memberships':
      return `core.user_group.${right}`;
    case 'roles':
    case 'business_groups':
      return `core.common.${right}`;
    case 'account_groups':
      return `core.accounting.${right}`;
    default:
      return undefined;
  }
}
