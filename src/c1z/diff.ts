/**
 * What changed between two syncs: of one file (latest vs previous, as `baton diff` compares) or of
 * two files. Set differences run in SQLite on the `(external_id, sync_id)` keys every v1 file has
 * indexed, so only the changed rows are decoded. Rows whose bytes differ are compared as decoded
 * messages (protojson, annotations unpacked, keys sorted) as baton does: Go's profile Structs are
 * serialised in a different order from run to run, which is not a change.
 */
import type Database from 'better-sqlite3';
import { fromBinary, type DescMessage, type JsonValue, type MessageShape } from '@bufbuild/protobuf';
import { findAnnotation } from './any.js';
import { CorruptC1zError } from './errors.js';
import { messageJson, type ObjectRef } from './inspect.js';
import {
  EntitlementSchema,
  GrantSchema,
  ResourceSchema,
  UserTrait_Status_Status,
  UserTraitSchema,
  type Entitlement,
  type Grant,
  type Resource,
} from './messages.js';
import type { C1zReader, SyncRun } from './reader.js';
import { TABLES } from './schema.js';

export type ChangeKind = 'added' | 'removed' | 'modified';

export interface DiffFilter {
  /** Only this resource type: resources of it, entitlements on it, grants of entitlements on it. */
  resourceType?: string;
  /** Only this principal: its own resource and its grants (no entitlements). A bare id: any type. */
  principal?: ObjectRef;
}

export interface ResourceChange {
  kind: ChangeKind;
  /** The resource as the applied sync has it (as the base had it, for a removal). */
  resource: Resource;
  before?: Resource;
  /** What changed, in words, for a modification: "deactivated", "display name …". */
  details: string[];
}

export interface EntitlementChange {
  kind: ChangeKind;
  entitlement: Entitlement;
  before?: Entitlement;
}

export interface GrantChange {
  kind: ChangeKind;
  grant: Grant;
  /** Looked up in the sync that holds the grant (the base for a removal); undefined if absent. */
  principal?: Resource;
  entitlement?: Entitlement;
  resource?: Resource;
}

export interface SyncDiff {
  base: { path: string; sync: SyncRun };
  applied: { path: string; sync: SyncRun };
  resources: ResourceChange[];
  entitlements: EntitlementChange[];
  grants: GrantChange[];
}

export const changeCount = (d: SyncDiff): number =>
  d.resources.length + d.entitlements.length + d.grants.length;

interface Side {
  reader: C1zReader;
  schema: string;
  syncId: string;
}

/**
 * Compares `base` with `applied` (each a reader set to the sync to compare). Readers of one file
 * share a database; a second file is attached read-only for the duration.
 */
export function diffSyncs(base: C1zReader, applied: C1zReader, filter: DiffFilter = {}): SyncDiff {
  if (!base.sync || !applied.sync) throw new Error('diffSyncs needs two readers set to a sync');
  const db = applied.sqlite();
  const other = base.sqlite();
  const attached = other !== db;
  if (attached) db.prepare(`attach database ? as base_file`).run(other.name);
  try {
    const a: Side = { reader: applied, schema: 'main', syncId: applied.sync.syncId };
    const b: Side = { reader: base, schema: attached ? 'base_file' : 'main', syncId: base.sync.syncId };
    return {
      base: { path: base.path, sync: base.sync },
      applied: { path: applied.path, sync: applied.sync },
      resources: diffResources(db, a, b, filter),
      entitlements: filter.principal ? [] : diffEntitlements(db, a, b, filter),
      grants: diffGrants(db, a, b, filter),
    };
  } finally {
    if (attached) db.exec('detach database base_file');
  }
}

type Where = { sql: string[]; params: string[] };

function rowsOf(db: Database.Database, table: string, from: Side, against: Side, where: Where): Uint8Array[] {
  const cond = where.sql.map((w) => `and x.${w}`).join(' ');
  const rows = db
    .prepare(
      `select x.data from ${from.schema}.${table} x where x.sync_id = ? ${cond}
       and not exists (select 1 from ${against.schema}.${table} y where y.sync_id = ? and y.external_id = x.external_id)
       order by x.id`,
    )
    .pluck()
    .all(from.syncId, ...where.params, against.syncId) as Uint8Array[];
  return rows;
}

function changedPairs(
  db: Database.Database,
  table: string,
  a: Side,
  b: Side,
  where: Where,
): { before: Uint8Array; after: Uint8Array }[] {
  const cond = where.sql.map((w) => `and x.${w}`).join(' ');
  return db
    .prepare(
      `select y.data as before, x.data as after from ${a.schema}.${table} x
       join ${b.schema}.${table} y on y.external_id = x.external_id and y.sync_id = ?
       where x.sync_id = ? ${cond} and x.data <> y.data order by x.id`,
    )
    .all(b.syncId, a.syncId, ...where.params) as { before: Uint8Array; after: Uint8Array }[];
}

function decode<Desc extends DescMessage>(schema: Desc, bytes: Uint8Array, path: string): MessageShape<Desc> {
  try {
    return fromBinary(schema, bytes);
  } catch (err) {
    throw new CorruptC1zError(
      path,
      `a ${schema.typeName} row does not decode (${(err as Error).message})`,
      err,
    );
  }
}

/** Decoded equality as baton's compareProto: protojson with annotations unpacked, keys sorted. */
function sameMessage<Desc extends DescMessage>(
  schema: Desc,
  x: MessageShape<Desc>,
  y: MessageShape<Desc>,
): boolean {
  return canonical(messageJson(schema, x)) === canonical(messageJson(schema, y));
}

/**
 * Profile keys that change without any change in access: Coupa bumps a user's `updated_at` on
 * every membership change, so a gained role would also show as a "modified" user.
 */
const VOLATILE_PROFILE_KEYS = ['updated_at'];

function volatileFree(r: Resource): JsonValue {
  const json = messageJson(ResourceSchema, r) as Record<string, JsonValue>;
  const annotations = json.annotations;
  if (Array.isArray(annotations)) {
    for (const a of annotations) {
      const profile = (a as Record<string, JsonValue> | null)?.profile;
      if (profile && typeof profile === 'object' && !Array.isArray(profile)) {
        for (const k of VOLATILE_PROFILE_KEYS) delete (profile as Record<string, JsonValue>)[k];
      }
    }
  }
  return json;
}

function canonical(v: JsonValue): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, JsonValue>)[k]!)}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

function resourceWhere(f: DiffFilter): Where {
  const w: Where = { sql: [], params: [] };
  if (f.resourceType !== undefined) {
    w.sql.push('resource_type_id = ?');
    w.params.push(f.resourceType);
  }
  if (f.principal) {
    if (f.principal.type !== undefined) {
      w.sql.push('external_id = ?');
      w.params.push(`${f.principal.type}:${f.principal.id}`);
    } else {
      w.sql.push(`external_id = resource_type_id || ':' || ?`);
      w.params.push(f.principal.id);
    }
  }
  return w;
}

function diffResources(db: Database.Database, a: Side, b: Side, f: DiffFilter): ResourceChange[] {
  const where = resourceWhere(f);
  const out: ResourceChange[] = [];
  for (const bytes of rowsOf(db, TABLES.resources, a, b, where))
    out.push({ kind: 'added', resource: decode(ResourceSchema, bytes, a.reader.path), details: [] });
  for (const bytes of rowsOf(db, TABLES.resources, b, a, where))
    out.push({ kind: 'removed', resource: decode(ResourceSchema, bytes, b.reader.path), details: [] });
  for (const pair of changedPairs(db, TABLES.resources, a, b, where)) {
    const before = decode(ResourceSchema, pair.before, b.reader.path);
    const after = decode(ResourceSchema, pair.after, a.reader.path);
    if (canonical(volatileFree(before)) === canonical(volatileFree(after))) continue;
    out.push({ kind: 'modified', resource: after, before, details: resourceDetails(before, after) });
  }
  return out;
}

function diffEntitlements(db: Database.Database, a: Side, b: Side, f: DiffFilter): EntitlementChange[] {
  const where: Where = { sql: [], params: [] };
  if (f.resourceType !== undefined) {
    where.sql.push('resource_type_id = ?');
    where.params.push(f.resourceType);
  }
  const out: EntitlementChange[] = [];
  for (const bytes of rowsOf(db, TABLES.entitlements, a, b, where))
    out.push({ kind: 'added', entitlement: decode(EntitlementSchema, bytes, a.reader.path) });
  for (const bytes of rowsOf(db, TABLES.entitlements, b, a, where))
    out.push({ kind: 'removed', entitlement: decode(EntitlementSchema, bytes, b.reader.path) });
  for (const pair of changedPairs(db, TABLES.entitlements, a, b, where)) {
    const before = decode(EntitlementSchema, pair.before, b.reader.path);
    const after = decode(EntitlementSchema, pair.after, a.reader.path);
    if (!sameMessage(EntitlementSchema, before, after))
      out.push({ kind: 'modified', entitlement: after, before });
  }
  return out;
}

function diffGrants(db: Database.Database, a: Side, b: Side, f: DiffFilter): GrantChange[] {
  const where: Where = { sql: [], params: [] };
  if (f.resourceType !== undefined) {
    where.sql.push('resource_type_id = ?');
    where.params.push(f.resourceType);
  }
  if (f.principal) {
    if (f.principal.type !== undefined) {
      where.sql.push('principal_resource_type_id = ?');
      where.params.push(f.principal.type);
    }
    where.sql.push('principal_resource_id = ?');
    where.params.push(f.principal.id);
  }
  const out: GrantChange[] = [];
  const resolve = (kind: ChangeKind, grant: Grant, own: C1zReader, fallback: C1zReader): GrantChange => {
    const pid = grant.principal?.id;
    const rid = grant.entitlement?.resource?.id;
    const find = <T>(get: (r: C1zReader) => T | undefined) => get(own) ?? get(fallback);
    return {
      kind,
      grant,
      principal: pid ? find((r) => r.getResource(pid.resourceType, pid.resource)) : undefined,
      entitlement: grant.entitlement?.id ? find((r) => r.getEntitlement(grant.entitlement!.id)) : undefined,
      resource: rid ? find((r) => r.getResource(rid.resourceType, rid.resource)) : undefined,
    };
  };
  for (const bytes of rowsOf(db, TABLES.grants, a, b, where))
    out.push(resolve('added', decode(GrantSchema, bytes, a.reader.path), a.reader, b.reader));
  for (const bytes of rowsOf(db, TABLES.grants, b, a, where))
    out.push(resolve('removed', decode(GrantSchema, bytes, b.reader.path), b.reader, a.reader));
  for (const pair of changedPairs(db, TABLES.grants, a, b, where)) {
    const before = decode(GrantSchema, pair.before, b.reader.path);
    const after = decode(GrantSchema, pair.after, a.reader.path);
    if (!sameMessage(GrantSchema, before, after)) out.push(resolve('modified', after, a.reader, b.reader));
  }
  return out;
}

const STATUS_WORDS: Record<number, string> = {
  [UserTrait_Status_Status.ENABLED]: 'enabled',
  [UserTrait_Status_Status.DISABLED]: 'disabled',
  [UserTrait_Status_Status.DELETED]: 'deleted',
};

/** The user-facing differences between two versions of a resource, in words. */
export function resourceDetails(before: Resource, after: Resource): string[] {
  const out: string[] = [];
  const tb = findAnnotation(before.annotations, UserTraitSchema);
  const ta = findAnnotation(after.annotations, UserTraitSchema);
  const sb = tb?.status?.status ?? 0;
  const sa = ta?.status?.status ?? 0;
  if (sb !== sa) {
    if (sa === UserTrait_Status_Status.DISABLED) out.push('was deactivated');
    else if (sa === UserTrait_Status_Status.ENABLED && sb === UserTrait_Status_Status.DISABLED)
      out.push('was reactivated');
    else out.push(`status ${STATUS_WORDS[sb] ?? 'unset'} → ${STATUS_WORDS[sa] ?? 'unset'}`);
  }
  if (before.displayName !== after.displayName)
    out.push(`display name ${JSON.stringify(before.displayName)} → ${JSON.stringify(after.displayName)}`);
  if (before.description !== after.description) out.push('description changed');
  const email = (t: typeof ta) => t?.emails.find((e) => e.isPrimary)?.address ?? t?.emails[0]?.address ?? '';
  if (email(tb) !== email(ta)) out.push(`email ${email(tb) || '(none)'} → ${email(ta) || '(none)'}`);
  if ((tb?.login ?? '') !== (ta?.login ?? ''))
    out.push(`login ${tb?.login || '(none)'} → ${ta?.login || '(none)'}`);
  const parent = (r: Resource) =>
    r.parentResourceId ? `${r.parentResourceId.resourceType}:${r.parentResourceId.resource}` : '(none)';
  if (parent(before) !== parent(after)) out.push(`parent ${parent(before)} → ${parent(after)}`);
  if (out.length === 0) out.push('other attributes changed');
  return out;
}
