import type { Tenant } from './tenant.js';
import type { TenantSchemas, ResourceSchema } from './schema.js';
import type { FieldSpec, Rendered, RenderMode } from './render.js';
import { badRequest } from './errors.js';

/** What one /api request handler sees. */
export interface ApiRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  id?: string;
  body: unknown;
}

export type Payload =
  | { type: 'record'; element: string; data: Rendered }
  | { type: 'list'; element: string; data: Rendered[] }
  | { type: 'errors'; resource: string; messages: string[] }
  | { type: 'none' };

export interface ApiResult {
  status: number;
  payload: Payload;
  headers?: Record<string, string>;
}

export interface WriteSettings {
  arrayMode: 'merge' | 'replace';
  unrevokableLicenses: string[];
  membershipDelete: boolean;
  groupSideEditsBumpUser: boolean;
  defaultOrder: 'id' | 'shuffled';
}

export interface ApiContext {
  tenant: Tenant;
  schemas: TenantSchemas;
  settings: WriteSettings;
}

/** `fields` wins over `return_object`; `none` only empties bodies of writes, as Coupa documents. */
export function renderModeOf(
  query: URLSearchParams,
  schema: ResourceSchema<unknown>,
  write: boolean,
): RenderMode | 'none' {
  const fields = query.get('fields');
  if (fields !== null) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(fields);
    } catch {
      throw badRequest(
        schema.errorKey,
        `fields must be a JSON array, e.g. ["id","login",{"roles":["id","name"]}]`,
      );
    }
    if (!Array.isArray(parsed)) throw badRequest(schema.errorKey, 'fields must be a JSON array');
    return parsed as FieldSpec;
  }
  const ro = query.get('return_object') ?? query.get('return-object');
  if (ro === 'limited') return 'limited';
  if (ro === 'shallow') return 'shallow';
  if (ro === 'none' && write) return 'none';
  return 'full';
}
