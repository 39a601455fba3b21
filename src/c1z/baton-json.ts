/**
 * baton's `-o json` shapes: the wrappers of baton's outputs.proto (ResourceOutput, GrantOutput, …,
 * SyncOutput, C1ZDiffOutput) rendered the way protojson renders them: lowerCamelCase names, empty
 * and unset fields left out, enums as names, timestamps as RFC 3339. baton's documented jq
 * examples (`jq '.resources[].resource.displayName'`) then work on our output unchanged.
 */
import type { JsonValue } from '@bufbuild/protobuf';
import {
  EntitlementSchema,
  GrantSchema,
  ResourceSchema,
  ResourceTypeSchema,
  type Entitlement,
  type Grant,
  type Resource,
  type ResourceType,
} from './messages.js';
import { messageJson } from './inspect.js';

type Obj = Record<string, JsonValue>;

/** protojson leaves unset message fields out; so does this. */
function put(o: Obj, key: string, value: JsonValue | undefined): Obj {
  if (value !== undefined) o[key] = value;
  return o;
}

const rt = (x: ResourceType | undefined) => (x ? messageJson(ResourceTypeSchema, x) : undefined);
const res = (x: Resource | undefined) => (x ? messageJson(ResourceSchema, x) : undefined);
const ent = (x: Entitlement | undefined) => (x ? messageJson(EntitlementSchema, x) : undefined);

/** baton.v1.ResourceTypeOutput */
export function resourceTypeOutput(resourceType: ResourceType): Obj {
  return put({}, 'resourceType', rt(resourceType));
}

/** baton.v1.ResourceOutput (also what `principals` lists) */
export function resourceOutput(resource: Resource, resourceType?: ResourceType, parent?: Resource): Obj {
  const o = put({}, 'resource', res(resource));
  put(o, 'resourceType', rt(resourceType));
  return put(o, 'parent', res(parent));
}

/** baton.v1.EntitlementOutput */
export function entitlementOutput(
  entitlement: Entitlement,
  resource?: Resource,
  resourceType?: ResourceType,
): Obj {
  const o = put({}, 'entitlement', ent(entitlement));
  put(o, 'resource', res(resource));
  return put(o, 'resourceType', rt(resourceType));
}

/** baton.v1.GrantOutput */
export function grantOutput(
  grant: Grant,
  parts: {
    entitlement?: Entitlement;
    resource?: Resource;
    resourceType?: ResourceType;
    principal?: Resource;
  },
): Obj {
  const o = put({}, 'grant', messageJson(GrantSchema, grant));
  put(o, 'entitlement', ent(parts.entitlement));
  put(o, 'resource', res(parts.resource));
  put(o, 'resourceType', rt(parts.resourceType));
  return put(o, 'principal', res(parts.principal));
}

/**
 * A stored v1 timestamp (`2006-01-02 15:04:05.999999999`, read as UTC as baton's driver reads it)
 * as protojson writes a google.protobuf.Timestamp: RFC 3339 with 0, 3, 6 or 9 fraction digits.
 */
export function timestampJson(stored: string | null): string | undefined {
  if (stored === null) return undefined;
  const m = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?/.exec(stored);
  if (!m) return undefined;
  const digits = (m[3] ?? '').replace(/0+$/, '');
  const width = digits.length === 0 ? 0 : digits.length <= 3 ? 3 : digits.length <= 6 ? 6 : 9;
  return `${m[1]}T${m[2]}${width ? '.' + digits.padEnd(width, '0') : ''}Z`;
}

/** baton.v1.SyncOutput; v0.2.58 files have no sync type or parent, so those stay unset. */
export function syncOutput(run: {
  syncId: string;
  startedAt: string;
  endedAt: string | null;
  syncToken?: string;
}): Obj {
  const o = put({}, 'id', run.syncId || undefined);
  put(o, 'startedAt', timestampJson(run.startedAt));
  put(o, 'endedAt', timestampJson(run.endedAt));
  return put(o, 'syncToken', run.syncToken || undefined);
}
