import type { ApiContext, ApiRequest, ApiResult } from '../api.js';
import { badRequest, notFound } from '../errors.js';
import { writeResult } from './read.js';

export function createMembership(ctx: ApiContext, req: ApiRequest): ApiResult {
  const b = req.body;
  if (!b || typeof b !== 'object' || Array.isArray(b)) {
    throw badRequest(
      'user_group_membership',
      'Request body must be a JSON object with user-id and user-group-id',
    );
  }
  const m = ctx.tenant.createMembership(b as Record<string, unknown>, {
    bumpUser: ctx.settings.groupSideEditsBumpUser,
  });
  return writeResult(201, ctx.schemas.memberships as never, m, req.query);
}

export function deleteMembership(ctx: ApiContext, req: ApiRequest): ApiResult {
  const id = Number(req.id);
  const m = Number.isInteger(id) ? ctx.tenant.memberships.get(id) : undefined;
  if (!m) throw notFound('UserGroupMembership', req.id ?? '');
  const snapshot = { ...m };
  ctx.tenant.deleteMembership(id, { bumpUser: ctx.settings.groupSideEditsBumpUser });
  return writeResult(200, ctx.schemas.memberships as never, snapshot, req.query);
}
