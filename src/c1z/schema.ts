/**
 * The SQLite schema of baton-sdk v0.2.58's c1z store, statement for statement as its
 * `pkg/dotc1z/*.go` create them. Kept byte-for-byte in spirit: same tables, column order, declared
 * types and index names, including the swapped resource index names and the grants index that
 * v0.2.58 never creates because its name collides (see docs/c1z.md).
 */
export const C1Z_MAGIC = Buffer.from('C1ZF\0', 'latin1');
export const C1Z_V3_MAGIC = Buffer.from('C1Z3\0', 'latin1');

export const TABLES = {
  resourceTypes: 'v1_resource_types',
  resources: 'v1_resources',
  entitlements: 'v1_entitlements',
  grants: 'v1_grants',
  syncRuns: 'v1_sync_runs',
  assets: 'v1_assets',
} as const;

/** The tables a reader needs; v1_assets is optional (baton would create it on open). */
export const REQUIRED_TABLES = [
  TABLES.resourceTypes,
  TABLES.resources,
  TABLES.entitlements,
  TABLES.grants,
  TABLES.syncRuns,
] as const;

// Whitespace (tabs included) copies Go's templates, so even the raw `sqlite_master.sql` text matches.
export const SCHEMA_STATEMENTS: readonly string[] = [
  `create table if not exists v1_resource_types (
    id integer primary key,
    external_id text not null,
    data blob not null,
    sync_id text not null,
    discovered_at datetime not null
)`,
  `create unique index if not exists idx_resource_types_external_sync_v1 on v1_resource_types (external_id, sync_id)`,
  `create table if not exists v1_resources (
    id integer primary key,
    resource_type_id text not null,
    external_id text not null,
	parent_resource_type_id text,
	parent_resource_id text,
    data blob not null,
    sync_id text not null,
    discovered_at datetime not null
)`,
  `create index if not exists idx_resources_resource_type_id_v1 on v1_resources (resource_type_id)`,
  `create index if not exists idx_resources_external_sync_v1 on v1_resources (parent_resource_type_id, parent_resource_id)`,
  `create unique index if not exists idx_resources_parent_resource_id_v1 on v1_resources (external_id, sync_id)`,
  `create table if not exists v1_entitlements (
    id integer primary key,
    resource_type_id text not null,
    resource_id text not null,
    external_id text not null,
    data blob not null,
    sync_id text not null,
    discovered_at datetime not null
)`,
  `create index if not exists idx_entitlements_resource_id_v1 on v1_entitlements (resource_type_id, resource_id)`,
  `create unique index if not exists idx_entitlements_external_sync_v1 on v1_entitlements (external_id, sync_id)`,
  `create table if not exists v1_grants (
    id integer primary key,
	resource_type_id text not null,
    resource_id text not null,
    entitlement_id text not null,
    principal_resource_type_id text not null,
    principal_resource_id text not null,
    external_id text not null,
    data blob not null,
    sync_id text not null,
    discovered_at datetime not null
)`,
  // v0.2.58 also asks for `idx_resource_types_external_sync_v1 on v1_grants (resource_type_id,
  // resource_id)`; the name already exists, so `if not exists` skips it. Kept for fidelity.
  `create index if not exists idx_resource_types_external_sync_v1 on v1_grants (resource_type_id, resource_id)`,
  `create index if not exists idx_grants_principal_id_v1 on v1_grants (principal_resource_type_id, principal_resource_id)`,
  `create index if not exists idx_grants_entitlement_id_principal_id_v1 on v1_grants (entitlement_id, principal_resource_type_id, principal_resource_id)`,
  `create unique index if not exists idx_grants_external_sync_v1 on v1_grants (external_id, sync_id)`,
  `create table if not exists v1_sync_runs (
    id integer primary key,
    sync_id text not null,
    started_at datetime not null,
    ended_at datetime,
    sync_token text not null
)`,
  `create unique index if not exists idx_sync_runs_sync_id_v1 on v1_sync_runs (sync_id)`,
  `create table if not exists v1_assets (
    id integer primary key,
    external_id text not null,
    content_type text not null,
    data blob not null,
    sync_id text not null,
    discovered_at datetime not null
)`,
  `create unique index if not exists idx_assets_external_sync_v1 on v1_assets (external_id, sync_id)`,
];

/** The grants upsert key; a bulk writer builds it after loading and dedupes only if it must. */
export const GRANTS_UNIQUE_INDEX = 'idx_grants_external_sync_v1';

/**
 * Indexes a bulk writer builds after the rows are in: one sort instead of millions of random
 * B-tree inserts. That is every plain index (they only serve readers) and the grants key, by far
 * the largest; the other unique keys stay up front for their upserts.
 */
export const buildsAfterLoad = (sql: string): boolean =>
  /^create index /i.test(sql) || sql.includes(` ${GRANTS_UNIQUE_INDEX} `);
