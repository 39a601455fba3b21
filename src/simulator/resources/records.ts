import type { ApiContext, ApiRequest, ApiResult } from '../api.js';
import { badRequest, notFound } from '../errors.js';
import type { ResourceSchema } from '../schema.js';
import type { Table } from '../table.js';
import { normalizeKeys, nowSeconds, type UserGroupRecord } from '../tenant.js';
import { writeResult } from './read.js';

/** Roles, user groups, content groups and account groups: create and update by name and a few flags. */
export type GroupLikeResource = 'roles' | 'userGroups' | 'contentGroups' | 'accountGroups';

interface FieldRule {
  prop: string;
  type: 'string' | 'boolean' | 'integer';
  nullable?: boolean;
  allowed?: number[];
}

const LABEL: Record<GroupLikeResource, string> = {
  roles: 'Role',
  userGroups: 'UserGroup',
  contentGroups: 'BusinessGroup',
  accountGroups: 'AccountGroup',
};

const WRITABLE: Record<GroupLikeResource, Record<string, FieldRule>> = {
  roles: {
    name: { prop: 'name', type: 'string' },
    description: { prop: 'description', type: 'string', nullable: true },
    omnipotent: { prop: 'omnipotent', type: 'boolean' },
  },
  userGroups: {
    name: { prop: 'name', type: 'string' },
    description: { prop: 'description', type: 'string', nullable: true },
    active: { prop: 'active', type: 'boolean' },
    'can-approve': { prop: 'canApprove', type: 'boolean' },
    open: { prop: 'open', type: 'boolean' },
  },
  contentGroups: {
    name: { prop: 'name', type: 'string' },
    description: { prop: 'description', type: 'string', nullable: true },
  },
  accountGroups: {
    name: { prop: 'name', type: 'string' },
    'account-group-type': { prop: 'accountGroupType', type: 'integer', allowed: [1, 2] },
  },
};

function objectBody(req: ApiRequest, errorKey: string): Record<string, unknown> {
  const b = req.body;
  if (!b || typeof b !== 'object' || Array.isArray(b))
    throw badRequest(errorKey, 'Request body must be a JSON object');
  return normalizeKeys(b as Record<string, unknown>);
}

/** Validates every writable key; returns the property changes, or throws a 400 listing every problem. */
function plan(
  ctx: ApiContext,
  resource: GroupLikeResource,
  schema: ResourceSchema<unknown>,
  body: Record<string, unknown>,
  selfId: number | undefined,
): { changes: Record<string, unknown>; memberIds?: number[] } {
  const errors: string[] = [];
  const changes: Record<string, unknown> = {};
  for (const [key, rule] of Object.entries(WRITABLE[resource])) {
    if (!(key in body)) continue;
    const v = body[key];
    if (v === null && rule.nullable) changes[rule.prop] = null;
    else if (rule.type === 'string' && typeof v === 'string') changes[rule.prop] = v;
    else if (rule.type === 'boolean' && (typeof v === 'boolean' || v === 'true' || v === 'false'))
      changes[rule.prop] = v === true || v === 'true';
    else if (
      rule.type === 'integer' &&
      Number.isInteger(Number(v)) &&
      (!rule.allowed || rule.allowed.includes(Number(v)))
    )
      changes[rule.prop] = Number(v);
    else errors.push(`${key} is invalid`);
  }
  const table = ctx.tenant[resource] as Table<{ id: number; name: string }>;
  const name = changes['name'];
  if (selfId === undefined && (typeof name !== 'string' || name.trim() === ''))
    errors.push("Name can't be blank");
  if (selfId !== undefined && 'name' in changes && (typeof name !== 'string' || name.trim() === ''))
    errors.push("Name can't be blank");
  if (typeof name === 'string' && table.find((r) => r.name === name && r.id !== selfId))
    errors.push('Name has already been taken');
  let memberIds: number[] | undefined;
  if (resource === 'userGroups' && 'users' in body) {
    const v = body['users'];
    if (v === null) memberIds = [];
    else if (!Array.isArray(v)) errors.push('users must be an array');
    else {
      memberIds = [];
      for (const item of v) {
        const ref = item && typeof item === 'object' ? normalizeKeys(item as Record<string, unknown>) : {};
        const user =
          ref['id'] !== undefined
            ? ctx.tenant.users.get(Number(ref['id']))
            : typeof ref['login'] === 'string'
              ? ctx.tenant.findUserBy('login', ref['login'])
              : undefined;
        if (!user)
          errors.push(
            `Unable to find valid User record for users with keys ${JSON.stringify(item)}. Possible keys are ["id", "login"]`,
          );
        else if (!memberIds.includes(user.id)) memberIds.push(user.id);
      }
    }
  }
  if (errors.length) throw badRequest(schema.errorKey, ...errors);
  return { changes, memberIds };
}

export function createGroupLike(ctx: ApiContext, resource: GroupLikeResource, req: ApiRequest): ApiResult {
  const schema = ctx.schemas[resource] as ResourceSchema<unknown>;
  const { changes, memberIds } = plan(ctx, resource, schema, objectBody(req, schema.errorKey), undefined);
  const name = changes['name'] as string;
  const { name: _name, ...extra } = changes;
  void _name;
  const t = ctx.tenant;
  const rec =
    resource === 'roles'
      ? t.createRole(name, extra)
      : resource === 'userGroups'
        ? t.createUserGroup(name, extra)
        : resource === 'contentGroups'
          ? t.createContentGroup(name, extra)
          : t.createAccountGroup(name, extra);
  if (memberIds) setMembers(ctx, rec as UserGroupRecord, memberIds);
  return writeResult(201, schema, rec, req.query);
}

export function updateGroupLike(ctx: ApiContext, resource: GroupLikeResource, req: ApiRequest): ApiResult {
  const schema = ctx.schemas[resource] as ResourceSchema<unknown>;
  const table = ctx.tenant[resource] as Table<{ id: number; updatedAt: number }>;
  const id = Number(req.id);
  const rec = Number.isInteger(id) ? table.get(id) : undefined;
  if (!rec) throw notFound(LABEL[resource], req.id ?? '');
  const { changes, memberIds } = plan(ctx, resource, schema, objectBody(req, schema.errorKey), id);
  const before = JSON.stringify(rec);
  Object.assign(rec, changes);
  if (memberIds) setMembers(ctx, rec as unknown as UserGroupRecord, memberIds);
  if (JSON.stringify(rec) !== before) rec.updatedAt = Math.max(nowSeconds(), rec.updatedAt + 1000);
  return writeResult(200, schema, rec, req.query);
}

/** Group-side membership edit (`users` on PUT /api/user_groups/:id), with the same array semantics as users. */
function setMembers(ctx: ApiContext, group: UserGroupRecord, ids: number[]): void {
  const now = nowSeconds();
  const current = ctx.tenant.membersOf(group.id);
  const next =
    ids.length === 0 ? [] : ctx.settings.arrayMode === 'merge' ? [...new Set([...current, ...ids])] : ids;
  for (const userId of current) {
    if (next.includes(userId)) continue;
    const user = ctx.tenant.users.get(userId)!;
    ctx.tenant.unlinkGroup(user, group.id);
    if (ctx.settings.groupSideEditsBumpUser) user.updatedAt = now;
  }
  for (const userId of next) {
    if (current.includes(userId)) continue;
    const user = ctx.tenant.users.get(userId)!;
    ctx.tenant.linkGroup(user, group.id, now);
    if (ctx.settings.groupSideEditsBumpUser) user.updatedAt = now;
  }
}
