/** Every scope of docs/coupa-api.md §2; the default set an OAuth client in the simulator was created with. */
export const ALL_SCOPES: readonly string[] = [
  'core.user.read',
  'core.user.write',
  'core.user_group.read',
  'core.user_group.write',
  'core.common.read',
  'core.common.write',
  'core.accounting.read',
  'core.accounting.write',
  'core.business_entity.read',
  'openid',
  'profile',
  'email',
  'login',
  'offline_access',
];

/** Which scope a call needs, per the scope table of docs/coupa-api.md §2 (read for GET, write otherwise). */
export function requiredScope(method: string, resource: string): string | undefined {
  const family: Record<string, string> = {
    users: 'core.user',
    user_groups: 'core.user_group',
    user_group_memberships: 'core.user_group',
    roles: 'core.common',
    business_groups: 'core.common',
    account_groups: 'core.accounting',
  };
  const base = family[resource];
  if (!base) return undefined;
  return `${base}.${method === 'GET' || method === 'HEAD' ? 'read' : 'write'}`;
}
