import { badRequest } from './errors.js';
import { ALL_LICENSE_FLAGS } from './license-flags.js';
import { Table } from './table.js';
import { planUserChange, refId, type UserPlan } from './user-write.js';
import { ASSOCIATIONS, type AssocTable } from './associations.js';

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
    const plan = planUserChange(this, draft, body, { ...opts, arrayMode: 'merge' }, errors, true);
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
    const plan = planUserChange(this, user, body, opts, errors, false);
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

  private applyPlan(user: UserRecord, plan: UserPlan, now: number): void {
    Object.assign(user, plan.scalars);
    user.licenses = plan.licenses;
    if (plan.managerId !== undefined) user.managerId = plan.managerId;
    const merge = plan.arrayMode !== 'replace';
    for (const assoc of ASSOCIATIONS) {
      const next = plan.assoc[assoc.key];
      if (!next) continue;
      const current = assoc.idsOf(this, user);
      // Coupa's documented semantics: an empty list clears; a non-empty one is added (merge) or,
      // on tenants that replace arrays, taken as the whole list.
      const ids = next.length === 0 ? [] : merge ? [...new Set([...current, ...next])] : next;
      assoc.setIds(this, user, ids, now);
    }
  }

  /** Makes the user's groups exactly `next`, keeping membership records and member lists aligned. */
  setUserGroups(user: UserRecord, next: number[], now: number): void {
    for (const g of [...user.userGroupIds]) if (!next.includes(g)) this.unlinkGroup(user, g);
    for (const g of [...next].sort((a, b) => a - b)) this.linkGroup(user, g, now);
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
  removeRecord(table: AssocTable, id: number): boolean {
    const now = nowSeconds();
    for (const user of this.users.list) {
      for (const assoc of ASSOCIATIONS) {
        if (assoc.table !== table) continue;
        const ids = assoc.idsOf(this, user);
        if (ids.includes(id))
          assoc.setIds(
            this,
            user,
            ids.filter((r) => r !== id),
            now,
          );
      }
    }
    return (this[table] as Table<{ id: number }>).remove(id);
  }
}

/** Coupa timestamps have one-second resolution. */
export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000) * 1000;
}
