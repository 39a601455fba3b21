import { badRequest } from './errors.js';
import { ALL_LICENSE_FLAGS } from './license-flags.js';
import { Table } from './table.js';

/** Kinds of approval limit a user carries (output keys end in `-approval-limit` etc.). */
export const APPROVAL_LIMIT_KEYS = [
  'requisition-approval-limit',
  'requisition-self-approval-limit',
  'expense-approval-limit',
  'expense-self-approval-limit',
  'invoice-approval-limit',
  'invoice-self-approval-limit',
  'contract-approval-limit',
  'contract-self-approval-limit',
  'work-confirmation-approval-limit',
  'escalation-threshold',
] as const;
export type ApprovalLimitKey = (typeof APPROVAL_LIMIT_KEYS)[number];

/**
 * One user, kept compact (a 100k-user tenant must stay small in memory): licenses are a bitmask
 * over `Tenant.licenseFlags`, associations are small id arrays, timestamps are epoch ms.
 */
export interface UserRecord {
  id: number;
  login: string;
  email: string;
  firstname: string;
  lastname: string;
  middlename: string | null;
  active: boolean;
  apiUser: boolean;
  employeeNumber: string | null;
  ssoIdentifier: string | null;
  mentionName: string | null;
  authenticationMethod: string;
  defaultLocale: string | null;
  managerId: number | null;
  licenses: number;
  roleIds: number[];
  userGroupIds: number[];
  contentGroupIds: number[];
  accountGroupIds: number[];
  /** Only users with approval authority have limits; null for everyone else. */
  approvalLimits: Partial<Record<ApprovalLimitKey, number>> | null;
  createdAt: number;
  updatedAt: number;
}

export interface RoleRecord {
  id: number;
  name: string;
  description: string | null;
  omnipotent: boolean;
  systemRole: boolean;
  createdAt: number;
  updatedAt: number;
}

export interface UserGroupRecord {
  id: number;
  name: string;
  description: string | null;
  active: boolean;
  canApprove: boolean;
  open: boolean;
  mentionName: string | null;
  createdAt: number;
  updatedAt: number;
}

export interface ContentGroupRecord {
  id: number;
  name: string;
  description: string | null;
  createdAt: number;
  updatedAt: number;
}

export interface AccountGroupRecord {
  id: number;
  name: string;
  accountGroupType: number;
  accountTypeName: string;
  createdAt: number;
  updatedAt: number;
}

export interface ApprovalLimitRecord {
  id: number;
  name: string;
  amount: string;
  currencyCode: string;
  subject: string;
  createdAt: number;
  updatedAt: number;
}

export interface MembershipRecord {
  id: number;
  userId: number;
  userGroupId: number;
  owner: boolean;
  createdAt: number;
  updatedAt: number;
}

/** Input keys may be hyphenated or underscored, as Coupa accepts both. */
export function hyphenate(key: string): string {
  return key.replace(/_/g, '-');
}

export function normalizeKeys(input: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(input)) out[hyphenate(k)] = v;
  return out;
}

export interface UserWriteOptions {
  arrayMode?: 'merge' | 'replace';
  unrevokableLicenses?: readonly string[];
  /** Wall clock for created-at / updated-at; injectable so tests can see the bump. */
  now?: number;
}

type AssocKey = 'roles' | 'user-groups' | 'content-groups' | 'account-groups' | 'approval-groups';
const ASSOC_KEYS: readonly AssocKey[] = [
  'roles',
  'user-groups',
  'content-groups',
  'account-groups',
  'approval-groups',
];
const UNIQUE_USER_FIELDS = [
  ['login', 'login', 'Login'],
  ['email', 'email', 'Email'],
  ['employee-number', 'employeeNumber', 'Employee number'],
  ['sso-identifier', 'ssoIdentifier', 'Sso identifier'],
  ['mention-name', 'mentionName', 'Mention name'],
] as const;
const STRING_USER_FIELDS = [
  ['login', 'login'],
  ['email', 'email'],
  ['firstname', 'firstname'],
  ['lastname', 'lastname'],
  ['middlename', 'middlename'],
  ['employee-number', 'employeeNumber'],
  ['sso-identifier', 'ssoIdentifier'],
  ['mention-name', 'mentionName'],
  ['authentication-method', 'authenticationMethod'],
  ['default-locale', 'defaultLocale'],
] as const;
const REQUIRED_USER_FIELDS = [
  ['login', 'Login'],
  ['email', 'Email'],
  ['firstname', 'Firstname'],
  ['lastname', 'Lastname'],
] as const;
const AUTH_METHODS = ['coupa_credentials', 'ldap', 'saml'];

/**
 * The in-memory Coupa instance. HTTP handlers and tests go through these methods so that the
 * derived indexes (group members, membership records) never drift from the users.
 */
export class Tenant {
  readonly licenseFlags: readonly string[];
  readonly users = new Table<UserRecord>();
  readonly roles = new Table<RoleRecord>();
  readonly userGroups = new Table<UserGroupRecord>();
  readonly contentGroups = new Table<ContentGroupRecord>();
  readonly accountGroups = new Table<AccountGroupRecord>();
  readonly approvalLimits = new Table<ApprovalLimitRecord>();
  readonly memberships = new Table<MembershipRecord>();
  /** "userId:groupId" → membership (sparse ids go up to 2^52, so no arithmetic key). */
  private readonly membershipByPair = new Map<string, MembershipRecord>();
  private readonly membersByGroup = new Map<number, Set<number>>();

  constructor(licenseFlags: readonly string[] = ALL_LICENSE_FLAGS) {
    const unknown = licenseFlags.filter((f) => !ALL_LICENSE_FLAGS.includes(f));
    if (unknown.length) throw badRequest('tenant', `Unknown license flag(s): ${unknown.join(', ')}`);
    this.licenseFlags = [...licenseFlags];
  }

  // ---- licenses -------------------------------------------------------------------------------

  hasLicense(user: UserRecord, flag: string): boolean {
    const bit = this.licenseFlags.indexOf(flag);
    return bit >= 0 && (user.licenses & (1 << bit)) !== 0;
  }

  licensesOf(user: UserRecord): string[] {
    return this.licenseFlags.filter((_, bit) => (user.licenses & (1 << bit)) !== 0);
  }

  setLicense(userId: number, flag: string, value: boolean, now = nowSeconds()): void {
    this.updateUser(userId, { [flag]: value }, { now });
  }

  // ---- memberships ----------------------------------------------------------------------------

  membersOf(groupId: number): number[] {
    return [...(this.membersByGroup.get(groupId) ?? [])].sort((a, b) => a - b);
  }

  membership(userId: number, groupId: number): MembershipRecord | undefined {
    return this.membershipByPair.get(`${userId}:${groupId}`);
  }

  /** Used by the generator and by user updates; keeps user.userGroupIds, members and records aligned. */
  linkGroup(user: UserRecord, groupId: number, now: number): MembershipRecord {
    const existing = this.membership(user.id, groupId);
    if (existing) return existing;
    const m = this.memberships.insert((id) => ({
      id,
      userId: user.id,
      userGroupId: groupId,
      owner: false,
      createdAt: now,
      updatedAt: now,
    }));
    this.membershipByPair.set(`${user.id}:${groupId}`, m);
    let set = this.membersByGroup.get(groupId);
    if (!set) this.membersByGroup.set(groupId, (set = new Set()));
    set.add(user.id);
    if (!user.userGroupIds.includes(groupId)) {
      // A fresh exact-size array: push() would leave spare capacity on 100k users.
      user.userGroupIds = [...user.userGroupIds, groupId].sort((a, b) => a - b);
    }
    return m;
  }

  unlinkGroup(user: UserRecord, groupId: number): boolean {
    const m = this.membership(user.id, groupId);
    if (!m) return false;
    this.memberships.remove(m.id);
    this.membershipByPair.delete(`${user.id}:${groupId}`);
    this.membersByGroup.get(groupId)?.delete(user.id);
    user.userGroupIds = user.userGroupIds.filter((g) => g !== groupId);
    return true;
  }

  /** POST /api/user_group_memberships. */
  createMembership(
    input: Record<string, unknown>,
    opts: { bumpUser?: boolean; now?: number } = {},
  ): MembershipRecord {
    const now = opts.now ?? nowSeconds();
    const body = normalizeKeys(input);
    const userId = refId(body['user-id'] ?? body['user']);
    const groupId = refId(body['user-group-id'] ?? body['user-group']);
    const errors: string[] = [];
    const user = userId === undefined ? undefined : this.users.get(userId);
    const group = groupId === undefined ? undefined : this.userGroups.get(groupId);
    if (!user)
      errors.push(
        userId === undefined
          ? "User can't be blank"
          : `Unable to find valid User record with keys {"id"=>${userId}}`,
      );
    if (!group)
      errors.push(
        groupId === undefined
          ? "User group can't be blank"
          : `Unable to find valid UserGroup record with keys {"id"=>${groupId}}`,
      );
    if (errors.length || !user || !group) throw badRequest('user_group_membership', ...errors);
    if (this.membership(user.id, group.id))
      throw badRequest('user_group_membership', 'User has already been taken');
    const m = this.linkGroup(user, group.id, now);
    if (opts.bumpUser) user.updatedAt = now;
    return m;
  }

  deleteMembership(id: number, opts: { bumpUser?: boolean; now?: number } = {}): boolean {
    const m = this.memberships.get(id);
    if (!m) return false;
    const user = this.users.get(m.userId);
    if (user) {
      this.unlinkGroup(user, m.userGroupId);
      if (opts.bumpUser) user.updatedAt = opts.now ?? nowSeconds();
    } else {
      this.memberships.remove(id);
    }
    return true;
  }

  // ---- users ----------------------------------------------------------------------------------

  findUserBy(
    field: 'login' | 'email' | 'employeeNumber' | 'ssoIdentifier' | 'mentionName',
    value: string,
  ): UserRecord | undefined {
    // A scan (about 1 ms per 100k users) is simpler than keeping five unique indexes in sync.
    return this.users.find((u) => u[field] === value);
  }

  /** POST /api/users: validates like Coupa (required fields, uniqueness), auto-assigns role User. */
  createUser(input: Record<string, unknown>, opts: UserWriteOptions = {}): UserRecord {
    const body = normalizeKeys(input);
    const errors: string[] = [];
    for (const [key, label] of REQUIRED_USER_FIELDS) {
      const v = body[key];
      if (typeof v !== 'string' || v.trim() === '') errors.push(`${label} can't be blank`);
    }
    const now = opts.now ?? nowSeconds();
    const draft: UserRecord = {
      id: this.users.nextId,
      login: '',
      email: '',
      firstname: '',
      lastname: '',
      middlename: null,
      active: true,
      apiUser: false,
      employeeNumber: null,
      ssoIdentifier: null,
      mentionName: null,
      authenticationMethod: 'coupa_credentials',
      defaultLocale: null,
      managerId: null,
      licenses: 0,
      roleIds: [],
      userGroupIds: [],
      contentGroupIds: [],
      accountGroupIds: [],
      approvalLimits: null,
      createdAt: now,
      updatedAt: now,
    };
    const userRole = this.roles.find((r) => r.name === 'User');
    const plan = this.planUserChange(draft, body, { ...opts, arrayMode: 'merge' }, errors, true);
    if (errors.length) throw badRequest('user', ...errors);
    const user = this.users.insert((id) => ({ ...draft, id }));
    this.applyPlan(user, plan, now);
    if (userRole && !user.roleIds.includes(userRole.id)) {
      user.roleIds.push(userRole.id);
      user.roleIds.sort((a, b) => a - b);
    }
    user.createdAt = now;
    user.updatedAt = now;
    return user;
  }

  /**
   * PUT /api/users/:id. Everything is validated before anything changes, so a 400 leaves the user
   * exactly as it was. Read-only and unknown keys are ignored, as Coupa does.
   */
  updateUser(id: number, input: Record<string, unknown>, opts: UserWriteOptions = {}): UserRecord {
    const user = this.users.get(id);
    if (!user) throw badRequest('user', `Couldn't find User with id ${id}`);
    const body = normalizeKeys(input);
    const errors: string[] = [];
    const plan = this.planUserChange(user, body, opts, errors, false);
    if (errors.length) throw badRequest('user', ...errors);
    const before = JSON.stringify(user);
    const now = opts.now ?? nowSeconds();
    this.applyPlan(user, plan, now);
    if (JSON.stringify(user) !== before) user.updatedAt = Math.max(now, user.updatedAt + 1000);
    return user;
  }

  /** Test helper: a record disappears (Coupa never deletes users, but a sync must cope anyway). */
  removeUser(id: number): boolean {
    const user = this.users.get(id);
    if (!user) return false;
    for (const g of [...user.userGroupIds]) this.unlinkGroup(user, g);
    return this.users.remove(id);
  }

  private planUserChange(
    user: UserRecord,
    body: Record<string, unknown>,
    opts: UserWriteOptions,
    errors: string[],
    creating: boolean,
  ): UserPlan {
    const plan: UserPlan = { scalars: {}, licenses: user.licenses, assoc: {} };
    for (const [key, prop] of STRING_USER_FIELDS) {
      if (!(key in body)) continue;
      const v = body[key];
      if (v === null || v === '') {
        const required = REQUIRED_USER_FIELDS.find(([k]) => k === key);
        if (required) {
          if (!creating) errors.push(`${required[1]} can't be blank`);
          continue;
        }
        (plan.scalars as Record<string, unknown>)[prop] =
          prop === 'authenticationMethod' ? 'coupa_credentials' : null;
      } else if (typeof v === 'string' || typeof v === 'number') {
        (plan.scalars as Record<string, unknown>)[prop] = String(v);
      } else {
        errors.push(`${key} must be a string`);
      }
    }
    const method = plan.scalars.authenticationMethod;
    if (method !== undefined && method !== null && !AUTH_METHODS.includes(method)) {
      errors.push(`Authentication method is not included in the list (${AUTH_METHODS.join(', ')})`);
    }
    for (const [key, prop, label] of UNIQUE_USER_FIELDS) {
      const v = (plan.scalars as Record<string, unknown>)[prop];
      if (typeof v !== 'string') continue;
      const other = this.findUserBy(prop, v);
      if (other && other.id !== user.id) errors.push(`${label} has already been taken`);
      void key;
    }
    if ('active' in body) {
      const b = toBool(body['active']);
      if (b === undefined) errors.push('Active must be true or false');
      else plan.scalars.active = b;
    }
    const unrevokable = new Set(opts.unrevokableLicenses ?? []);
    this.licenseFlags.forEach((flag, bit) => {
      if (!(flag in body)) return;
      const b = toBool(body[flag]);
      if (b === undefined) {
        errors.push(`${flag} must be true or false`);
        return;
      }
      if (b) plan.licenses |= 1 << bit;
      else if (!(unrevokable.has(flag) && (user.licenses & (1 << bit)) !== 0)) plan.licenses &= ~(1 << bit);
    });
    if ('manager' in body) {
      const m = body['manager'];
      if (m === null) plan.managerId = null;
      else {
        const ref =
          typeof m === 'object' && !Array.isArray(m)
            ? normalizeKeys(m as Record<string, unknown>)
            : undefined;
        const byId = ref && ref['id'] !== undefined ? this.users.get(Number(ref['id'])) : undefined;
        const byLogin =
          ref && typeof ref['login'] === 'string' ? this.findUserBy('login', ref['login']) : undefined;
        const found = byId ?? byLogin;
        if (!found) errors.push(unableToFind('User', 'manager', ref ?? m, ['id', 'login']));
        else if (found.id === user.id && !creating) errors.push('Manager cannot be the user itself');
        else plan.managerId = found.id;
      }
    }
    for (const key of ASSOC_KEYS) {
      if (!(key in body)) continue;
      const ids = this.resolveAssoc(key, body[key], errors);
      if (ids) plan.assoc[key] = ids;
    }
    plan.arrayMode = opts.arrayMode ?? 'merge';
    return plan;
  }

  private resolveAssoc(key: AssocKey, value: unknown, errors: string[]): number[] | undefined {
    if (value === null) return [];
    if (!Array.isArray(value)) {
      errors.push(`${key} must be an array`);
      return undefined;
    }
    const [typeName, lookup] = this.assocLookup(key);
    const ids: number[] = [];
    for (const item of value) {
      const ref =
        item && typeof item === 'object' && !Array.isArray(item)
          ? normalizeKeys(item as Record<string, unknown>)
          : undefined;
      let id: number | undefined;
      if (ref && ref['id'] !== undefined && ref['id'] !== null) id = lookup.byId(Number(ref['id']));
      else if (ref && typeof ref['name'] === 'string') id = lookup.byName(ref['name']);
      if (id === undefined) {
        errors.push(unableToFind(typeName, key, ref ?? item, ['id', 'name']));
        continue;
      }
      if (!ids.includes(id)) ids.push(id);
    }
    return ids;
  }

  private assocLookup(
    key: AssocKey,
  ): [string, { byId(id: number): number | undefined; byName(n: string): number | undefined }] {
    const simple = (
      table: Table<{ id: number; name: string }>,
      filter: (r: { id: number }) => boolean = () => true,
    ) => ({
      byId: (id: number) => {
        const r = table.get(id);
        return r && filter(r) ? r.id : undefined;
      },
      byName: (n: string) => table.find((r) => r.name === n && filter(r))?.id,
    });
    switch (key) {
      case 'roles':
        return ['Role', simple(this.roles)];
      case 'user-groups':
        return ['UserGroup', simple(this.userGroups)];
      case 'approval-groups':
        return ['ApprovalGroup', simple(this.userGroups, (r) => (r as UserGroupRecord).canApprove)];
      case 'content-groups':
        return ['BusinessGroup', simple(this.contentGroups)];
      case 'account-groups':
        return ['AccountGroup', simple(this.accountGroups)];
    }
  }

  private applyPlan(user: UserRecord, plan: UserPlan, now: number): void {
    Object.assign(user, plan.scalars);
    user.licenses = plan.licenses;
    if (plan.managerId !== undefined) user.managerId = plan.managerId;
    const merge = plan.arrayMode !== 'replace';
    const combine = (current: number[], next: number[]) =>
      (next.length === 0 ? [] : merge ? [...new Set([...current, ...next])] : next).sort((a, b) => a - b);
    if (plan.assoc['roles']) user.roleIds = combine(user.roleIds, plan.assoc['roles']);
    if (plan.assoc['content-groups'])
      user.contentGroupIds = combine(user.contentGroupIds, plan.assoc['content-groups']);
    if (plan.assoc['account-groups'])
      user.accountGroupIds = combine(user.accountGroupIds, plan.assoc['account-groups']);
    const groups = plan.assoc['user-groups'];
    if (groups) this.setGroups(user, combine(user.userGroupIds, groups), now);
    const approval = plan.assoc['approval-groups'];
    if (approval) {
      // Approval groups are the user's groups that can approve: only that subset is touched.
      const approving = user.userGroupIds.filter((g) => this.userGroups.get(g)?.canApprove);
      const others = user.userGroupIds.filter((g) => !approving.includes(g));
      this.setGroups(user, [...new Set([...others, ...combine(approving, approval)])], now);
    }
  }

  private setGroups(user: UserRecord, next: number[], now: number): void {
    for (const g of [...user.userGroupIds]) if (!next.includes(g)) this.unlinkGroup(user, g);
    for (const g of next) this.linkGroup(user, g, now);
  }

  // ---- other records (tests add or remove them mid-sync) ---------------------------------------

  createRole(name: string, extra: Partial<Omit<RoleRecord, 'id'>> = {}): RoleRecord {
    const now = nowSeconds();
    return this.roles.insert((id) => ({
      id,
      name,
      description: null,
      omnipotent: false,
      systemRole: false,
      createdAt: now,
      updatedAt: now,
      ...extra,
    }));
  }

  createUserGroup(name: string, extra: Partial<Omit<UserGroupRecord, 'id'>> = {}): UserGroupRecord {
    const now = nowSeconds();
    return this.userGroups.insert((id) => ({
      id,
      name,
      description: null,
      active: true,
      canApprove: false,
      open: false,
      mentionName: null,
      createdAt: now,
      updatedAt: now,
      ...extra,
    }));
  }

  createContentGroup(name: string, extra: Partial<Omit<ContentGroupRecord, 'id'>> = {}): ContentGroupRecord {
    const now = nowSeconds();
    return this.contentGroups.insert((id) => ({
      id,
      name,
      description: null,
      createdAt: now,
      updatedAt: now,
      ...extra,
    }));
  }

  createAccountGroup(name: string, extra: Partial<Omit<AccountGroupRecord, 'id'>> = {}): AccountGroupRecord {
    const now = nowSeconds();
    return this.accountGroups.insert((id) => ({
      id,
      name,
      accountGroupType: 1,
      accountTypeName: 'Default Chart of Accounts',
      createdAt: now,
      updatedAt: now,
      ...extra,
    }));
  }

  /** Removes a role / group record and every user's reference to it. */
  removeRecord(kind: 'roles' | 'userGroups' | 'contentGroups' | 'accountGroups', id: number): boolean {
    for (const user of this.users.list) {
      if (kind === 'roles') user.roleIds = user.roleIds.filter((r) => r !== id);
      else if (kind === 'contentGroups') user.contentGroupIds = user.contentGroupIds.filter((r) => r !== id);
      else if (kind === 'accountGroups') user.accountGroupIds = user.accountGroupIds.filter((r) => r !== id);
      else this.unlinkGroup(user, id);
    }
    return (this[kind] as Table<{ id: number }>).remove(id);
  }
}

interface UserPlan {
  scalars: Partial<
    Pick<
      UserRecord,
      | 'login'
      | 'email'
      | 'firstname'
      | 'lastname'
      | 'middlename'
      | 'employeeNumber'
      | 'ssoIdentifier'
      | 'mentionName'
      | 'authenticationMethod'
      | 'defaultLocale'
      | 'active'
    >
  >;
  licenses: number;
  managerId?: number | null;
  assoc: Partial<Record<AssocKey, number[]>>;
  arrayMode?: 'merge' | 'replace';
}

function toBool(v: unknown): boolean | undefined {
  if (typeof v === 'boolean') return v;
  if (v === 'true' || v === 1 || v === '1') return true;
  if (v === 'false' || v === 0 || v === '0') return false;
  return undefined;
}

function refId(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'string' && /^\d+$/.test(v)) return Number(v);
  if (v && typeof v === 'object' && 'id' in v) return refId((v as { id: unknown }).id);
  return undefined;
}

function unableToFind(typeName: string, attr: string, ref: unknown, possible: string[]): string {
  const keys =
    ref && typeof ref === 'object'
      ? Object.entries(ref as Record<string, unknown>)
          .map(([k, v]) => `"${k}"=>${JSON.stringify(v)}`)
          .join(', ')
      : JSON.stringify(ref);
  return (
    `Unable to find valid ${typeName} record for ${attr} with keys {${keys}}. ` +
    `Possible keys are [${possible.map((p) => `"${p}"`).join(', ')}]`
  );
}

/** Coupa timestamps have one-second resolution. */
export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000) * 1000;
}
