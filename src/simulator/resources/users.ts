import type { ApiContext, ApiRequest, ApiResult } from '../api.js';
import { badRequest, notFound } from '../errors.js';
import { writeResult } from './read.js';

function objectBody(req: ApiRequest): Record<string, unknown> {
  const b = req.body;
  if (!b || typeof b !== 'object' || Array.isArray(b)) {
    throw badRequest('user', 'Request body must be a JSON object (send Content-Type: application/json)');
  }
  return b as Record<string, unknown>;
}

export function createUser(ctx: ApiContext, req: ApiRequest): ApiResult {
  const user = ctx.tenant.createUser(objectBody(req), {
    unrevokableLicenses: ctx.settings.unrevokableLicenses,
  });
  return writeResult(201, ctx.schemas.users as never, user, req.query);
}

export function updateUser(ctx: ApiContext, req: ApiRequest): ApiResult {
  const id = Number(req.id);
  if (!Number.isInteger(id) || !ctx.tenant.users.get(id)) throw notFound('User', req.id ?? '');
  const user = ctx.tenant.updateUser(id, objectBody(req), {
    arrayMode: ctx.settings.arrayMode,
    unrevokableLicenses: ctx.settings.unrevokableLicenses,
  });
  return writeResult(200, ctx.schemas.users as never, user, req.query);
}
