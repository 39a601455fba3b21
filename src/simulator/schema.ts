import type {
  AccountGroupRecord,
  ApprovalLimitRecord,
  ContentGroupRecord,
  MembershipRecord,
  RoleRecord,
  Tenant,
  UserGroupRecord,
  UserRecord,
} from './tenant.js';
import { APPROVAL_LIMIT_KEYS } from './tenant.js';
import { ASSOCIATIONS } from './associations.js';
import type { Table } from './table.js';

/**
 * How each resource looks over the API: its scalar attributes (for output, filters and ordering)
 * and its associations (for nested output and association-path filters like `roles[id]`). One
 * description serves JSON, XML, `fields`, `return_object` and the filter engine alike.
 */
export type ScalarKind = 'integer' | 'boolean' | 'string' | 'datetime' | 'decimal';
export type ScalarValue = string | number | boolean | null;

export interface ScalarDef<R> {
  kind: ScalarKind;
  get(r: R): ScalarValue;
}

export interface RelationDef<R> {
  target: () => ResourceSchema<unknown>;
  many: boolean;
  get(r: R): unknown[] | unknown | null;
}

export interface ResourceSchema<R> {
  /** XML element name of one record, e.g. `user`. */
  element: string;
  /** Resource name in error bodies. */
  errorKey: string;
  scalars: Record<string, ScalarDef<R>>;
  relations: Record<string, RelationDef<R>>;
  /** Scalars shown when the record is embedded in another (all scalars when absent). */
  embedded?: string[];
  /** Natural key shown next to the id in `return_object=shallow` associations. */
  naturalKey: string;
}

export interface TenantSchemas {
  users: ResourceSchema<UserRecord>;
  roles: ResourceSchema<RoleRecord>;
  userGroups: ResourceSchema<UserGroupRecord>;
  contentGroups: ResourceSchema<ContentGroupRecord>;
  accountGroups: ResourceSchema<AccountGroupRecord>;
  approvalLimits: ResourceSchema<ApprovalLimitRecord>;
  memberships: ResourceSchema<MembershipRecord>;
}

const int = <R>(get: (r: R) => number | null): ScalarDef<R> => ({ kind: 'integer', get });
const bool = <R>(get: (r: R) => boolean | null): ScalarDef<R> => ({ kind: 'boolean', get });
const str = <R>(get: (r: R) => string | null): ScalarDef<R> => ({ kind: 'string', get });
const time = <R>(get: (r: R) => number | null): ScalarDef<R> => ({ kind: 'datetime', get });
const nothing = <R>(kind: ScalarKind = 'string'): ScalarDef<R> => ({ kind, get: () => null });
/** What every Coupa record carries: its id and its two timestamps. */
const recordScalars = <R extends { id: number; createdAt: number | null; updatedAt: number | null }>() => ({
  id: int((r: R) => r.id),
  'created-at': time((r: R) => r.createdAt),
  'updated-at': time((r: R) => r.updatedAt),
});

const currencySchema: ResourceSchema<{ code: string }> = {
  element: 'currency',
  errorKey: 'currency',
  scalars: { code: str((c) => c.code) },
  relations: {},
  naturalKey: 'code',
};

export function buildSchemas(tenant: Tenant): TenantSchemas {
  const s = {} as TenantSchemas;
  const many = <R, T>(target: () => ResourceSchema<T>, get: (r: R) => T[]): RelationDef<R> => ({
    target: target as () => ResourceSchema<unknown>,
    many: true,
    get,
  });
  const one = <R, T>(
    target: () => ResourceSchema<T>,
    get: (r: R) => T | null | undefined,
  ): RelationDef<R> => ({
    target: target as () => ResourceSchema<unknown>,
    many: false,
    get: (r) => get(r) ?? null,
  });
  const lookup = <T extends { id: number }>(
    table: { get(id: number): T | undefined },
    ids: number[],
  ): T[] => {
    const out: T[] = [];
    for (const id of ids) {
      const rec = table.get(id);
      if (rec) out.push(rec);
    }
    return out;
  };

  const userScalars: Record<string, ScalarDef<UserRecord>> = {
    ...recordScalars(),
    login: str((u) => u.login),
    email: str((u) => u.email),
    firstname: str((u) => u.firstname),
    lastname: str((u) => u.lastname),
    middlename: str((u) => u.middlename),
    fullname: str((u) => `${u.firstname} ${u.lastname}`),
    active: bool((u) => u.active),
    'api-user': bool((u) => u.apiUser),
    'msp-user': bool(() => false),
    'supplier-user': bool(() => false),
    'support-user': bool(() => false),
    'employee-number': str((u) => u.employeeNumber),
    'sso-identifier': str((u) => u.ssoIdentifier),
    'authentication-method': str((u) => u.authenticationMethod),
    'account-security-type': int(() => 0),
    'business-group-security-type': int(() => 0),
    'default-locale': str((u) => u.defaultLocale),
    'mention-name': str((u) => u.mentionName),
    'salesforce-id': nothing(),
    type: nothing(),
  };
  tenant.licenseFlags.forEach((flag, bit) => {
    userScalars[flag] = bool((u) => (u.licenses & (1 << bit)) !== 0);
  });

  const userRelations: Record<string, RelationDef<UserRecord>> = {
    manager: one(
      () => s.users,
      (u) => (u.managerId === null ? null : tenant.users.get(u.managerId)),
    ),
    ...Object.fromEntries(
      ASSOCIATIONS.map((assoc) => [
        assoc.key,
        many(
          () => s[assoc.table] as ResourceSchema<{ id: number }>,
          (u: UserRecord) => lookup(tenant[assoc.table] as Table<{ id: number }>, assoc.idsOf(tenant, u)),
        ),
      ]),
    ),
    'created-by': one(
      () => s.users,
      () => null,
    ),
    'updated-by': one(
      () => s.users,
      () => null,
    ),
  };
  for (const key of APPROVAL_LIMIT_KEYS) {
    userRelations[key] = one(
      () => s.approvalLimits,
      (u) => {
        const id = u.approvalLimits?.[key];
        return id === undefined ? null : tenant.approvalLimits.get(id);
      },
    );
  }

  s.users = {
    element: 'user',
    errorKey: 'user',
    scalars: userScalars,
    relations: userRelations,
    embedded: ['id', 'login', 'email', 'firstname', 'lastname', 'fullname', 'employee-number', 'active'],
    naturalKey: 'login',
  };
  s.roles = {
    element: 'role',
    errorKey: 'role',
    scalars: {
      ...recordScalars(),
      name: str((r) => r.name),
      description: str((r) => r.description),
      omnipotent: bool((r) => r.omnipotent),
      'system-role': bool((r) => r.systemRole),
    },
    relations: {},
    naturalKey: 'name',
  };
  s.userGroups = {
    element: 'user-group',
    errorKey: 'user_group',
    scalars: {
      ...recordScalars(),
      name: str((g) => g.name),
      description: str((g) => g.description),
      active: bool((g) => g.active),
      'can-approve': bool((g) => g.canApprove),
      open: bool((g) => g.open),
      'mention-name': str((g) => g.mentionName),
      type: nothing(),
      'avatar-thumb-url': nothing(),
    },
    relations: {
      users: many(
        () => s.users,
        (g) => lookup(tenant.users, tenant.membersOf(g.id)),
      ),
      owner: one(
        () => s.userGroups,
        () => null,
      ),
    },
    naturalKey: 'name',
  };
  s.contentGroups = {
    element: 'business-group',
    errorKey: 'business_group',
    scalars: {
      ...recordScalars(),
      name: str((g) => g.name),
      description: str((g) => g.description),
    },
    relations: {},
    naturalKey: 'name',
  };
  s.accountGroups = {
    element: 'account-group',
    errorKey: 'account_group',
    scalars: {
      ...recordScalars(),
      name: str((g) => g.name),
      'account-group-type': int((g) => g.accountGroupType),
    },
    relations: {},
    naturalKey: 'name',
  };
  s.approvalLimits = {
    element: 'approval-limit',
    errorKey: 'approval_limit',
    scalars: {
      ...recordScalars(),
      name: str((l) => l.name),
      amount: { kind: 'decimal', get: (l) => l.amount },
      subject: str((l) => l.subject),
    },
    relations: {
      currency: one(
        () => currencySchema,
        (l) => ({ code: l.currencyCode }),
      ),
    },
    naturalKey: 'name',
  };
  s.memberships = {
    element: 'user-group-membership',
    errorKey: 'user_group_membership',
    scalars: {
      ...recordScalars(),
      'user-id': int((m) => m.userId),
      'user-group-id': int((m) => m.userGroupId),
      owner: bool((m) => m.owner),
      participant: bool(() => true),
      'user-group-type': str(() => 'group'),
    },
    relations: {
      user: one(
        () => s.users,
        (m) => tenant.users.get(m.userId),
      ),
      'user-group': one(
        () => s.userGroups,
        (m) => tenant.userGroups.get(m.userGroupId),
      ),
    },
    naturalKey: 'id',
  };
  return s;
}
