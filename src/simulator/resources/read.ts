import type { ApiContext, ApiRequest, ApiResult } from '../api.js';
import { renderModeOf } from '../api.js';
import { notFound } from '../errors.js';
import { parseIndexQuery, runIndex } from '../query.js';
import { render, type RenderMode } from '../render.js';
import type { ResourceSchema, TenantSchemas } from '../schema.js';
import type { Table } from '../table.js';

export type ReadableResource =
  'users' | 'userGroups' | 'roles' | 'contentGroups' | 'accountGroups' | 'memberships';

const LABEL: Record<ReadableResource, string> = {
  users: 'User',
  userGroups: 'UserGroup',
  roles: 'Role',
  contentGroups: 'BusinessGroup',
  accountGroups: 'AccountGroup',
  memberships: 'UserGroupMembership',
};

function parts(ctx: ApiContext, resource: ReadableResource) {
  const schema = ctx.schemas[resource as keyof TenantSchemas] as ResourceSchema<unknown>;
  const table = ctx.tenant[resource] as Table<{ id: number }>;
  return { schema, table };
}

export function indexRecords(ctx: ApiContext, resource: ReadableResource, req: ApiRequest): ApiResult {
  const { schema, table } = parts(ctx, resource);
  const q = parseIndexQuery(req.query, schema);
  const mode = renderModeOf(req.query, schema, false) as RenderMode;
  const rows = runIndex(table.list, schema, q, ctx.settings.defaultOrder);
  return {
    status: 200,
    payload: { type: 'list', element: schema.element, data: rows.map((r) => render(schema, r, mode)) },
  };
}

export function showRecord(ctx: ApiContext, resource: ReadableResource, req: ApiRequest): ApiResult {
  const { schema, table } = parts(ctx, resource);
  const id = Number(req.id);
  const rec = Number.isInteger(id) ? table.get(id) : undefined;
  if (!rec) throw notFound(LABEL[resource], req.id ?? '');
  const mode = renderModeOf(req.query, schema, false) as RenderMode;
  return {
    status: 200,
    payload: { type: 'record', element: schema.element, data: render(schema, rec, mode) },
  };
}

/** Output of a write: the record, trimmed by `fields`/`return_object` (`none` = empty body). */
export function writeResult(
  status: number,
  schema: ResourceSchema<unknown>,
  rec: unknown,
  query: URLSearchParams,
): ApiResult {
  const mode = renderModeOf(query, schema, true);
  if (mode === 'none') return { status, payload: { type: 'none' } };
  return { status, payload: { type: 'record', element: schema.element, data: render(schema, rec, mode) } };
}
