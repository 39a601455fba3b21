/**
 * Sync history inside one c1z, as baton keeps it: every sync appends a run to the existing file and
 * the oldest finished runs beyond `BATON_KEEP_SYNC_COUNT` (default 2, baton's) are dropped. The
 * latest run is the finished one with the greatest `ended_at` text (baton v0.2.58's choice), so a
 * new run must end after every run it joins.
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { decodeC1z, decodeLimits } from './container.js';
import { C1zError, C1zWriteError } from './errors.js';
import { ConfigError } from '../errors.js';
import { TABLES } from './schema.js';
import { goTimestamp } from './timestamp.js';

export const KEEP_SYNC_COUNT_ENV = 'BATON_KEEP_SYNC_COUNT';
export const DEFAULT_KEEP_SYNC_COUNT = 2;

export interface SyncRunRow {
  syncId: string;
  startedAt: string;
  /** null = the run never finished. */
  endedAt: string | null;
  /** The syncer's resume state (Go leaves JSON here); '' when none. */
  syncToken?: string;
}

/** How many full syncs a file keeps, from BATON_KEEP_SYNC_COUNT; a bad value is a usage error. */
export function keepSyncCount(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[KEEP_SYNC_COUNT_ENV];
  if (raw === undefined || raw.trim() === '') return DEFAULT_KEEP_SYNC_COUNT;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) {
    throw new ConfigError(
      `${KEEP_SYNC_COUNT_ENV} must be a whole number >= 1 (the syncs a c1z keeps), got "${raw}".`,
    );
  }
  return n;
}

/**
 * Every run in the file, newest first in baton's order: finished runs by `ended_at` descending
 * (text order, as v0.2.58 compares), then unfinished ones by `started_at` descending.
 */
export function listSyncRuns(db: Database.Database, schema = 'main'): SyncRunRow[] {
  const rows = db
    .prepare(
      `select sync_id as syncId, started_at as startedAt, ended_at as endedAt, sync_token as syncToken
       from ${schema}.${TABLES.syncRuns}
       order by ended_at is null, ended_at desc, started_at desc, id desc`,
    )
    .all() as SyncRunRow[];
  return rows.map((r) => ({
    syncId: String(r.syncId),
    startedAt: String(r.startedAt),
    endedAt: r.endedAt == null ? null : String(r.endedAt),
    syncToken: r.syncToken == null ? '' : String(r.syncToken),
  }));
}

/** Columns copied per table: named, so files with newer SDK columns still copy into v0.2.58 tables. */
const COPY_COLUMNS: Record<string, string[]> = {
  [TABLES.resourceTypes]: ['external_id', 'data', 'sync_id', 'discovered_at'],
  [TABLES.resources]: [
    'resource_type_id',
    'external_id',
    'parent_resource_type_id',
    'parent_resource_id',
    'data',
    'sync_id',
    'discovered_at',
  ],
  [TABLES.entitlements]: [
    'resource_type_id',
    'resource_id',
    'external_id',
    'data',
    'sync_id',
    'discovered_at',
  ],
  [TABLES.grants]: [
    'resource_type_id',
    'resource_id',
    'entitlement_id',
    'principal_resource_type_id',
    'principal_resource_id',
    'external_id',
    'data',
    'sync_id',
    'discovered_at',
  ],
  [TABLES.assets]: ['external_id', 'content_type', 'data', 'sync_id', 'discovered_at'],
};

export interface CarriedOver {
  /** Runs copied from the previous file, newest first. */
  kept: SyncRunRow[];
  /** Runs of the previous file left behind (older than the kept ones, or never finished). */
  dropped: SyncRunRow[];
  /** The greatest `ended_at` among the kept runs; the new run must end after it. */
  latestEndedAt: string | null;
}

/**
 * Copies the newest `keep - 1` finished runs of the c1z at `previousPath` (and their rows) into
 * `db`, which holds the new run. Runs that never finished are left behind: the new run supersedes
 * them. Returns nothing to carry for a missing or empty file. An unreadable previous file is an
 * error: replacing it silently would lose its history (set the count to 1 to replace it).
 */
export async function carryOverSyncs(
  db: Database.Database,
  previousPath: string,
  keep: number,
  tmpDir: string,
): Promise<CarriedOver> {
  const none: CarriedOver = { kept: [], dropped: [], latestEndedAt: null };
  if (keep <= 1) return none;
  try {
    const st = await stat(previousPath);
    if (!st.isFile() || st.size === 0) return none;
  } catch {
    return none;
  }
  const dir = await mkdtemp(join(tmpDir, 'previous-'));
  const prevDb = join(dir, 'db');
  try {
    try {
      await decodeC1z(previousPath, prevDb, decodeLimits());
    } catch (err) {
      const why = err instanceof C1zError ? err.message : (err as Error).message;
      throw new C1zWriteError(
        `Cannot add this sync to ${previousPath}: the existing file is not a readable c1z (${why}). ` +
          `Move it away, or set ${KEEP_SYNC_COUNT_ENV}=1 to replace it instead of keeping its history.`,
        err,
      );
    }
    db.prepare('attach database ? as prev').run(prevDb);
    try {
      const tables = new Set(
        (
          db.prepare(`select name from prev.sqlite_master where type = 'table'`).all() as { name: string }[]
        ).map((r) => r.name),
      );
      if (!tables.has(TABLES.syncRuns)) {
        throw new C1zWriteError(
          `Cannot add this sync to ${previousPath}: it has no ${TABLES.syncRuns} table, so it is not a c1z. ` +
            `Move it away, or set ${KEEP_SYNC_COUNT_ENV}=1 to replace it.`,
        );
      }
      // Go files are marked WAL but fully checkpointed; attaching reads the main file only.
      const runs = listSyncRuns(db, 'prev');
      const finished = runs.filter((r) => r.endedAt !== null);
      const kept = finished.slice(0, keep - 1);
      const keptIds = new Set(kept.map((r) => r.syncId));
      const dropped = runs.filter((r) => !keptIds.has(r.syncId));
      if (kept.length > 0) {
        const ids = JSON.stringify(kept.map((r) => r.syncId));
        db.exec('begin');
        db.prepare(
          `insert into ${TABLES.syncRuns} (sync_id, started_at, ended_at, sync_token)
           select sync_id, started_at, ended_at, sync_token from prev.${TABLES.syncRuns}
           where sync_id in (select value from json_each(?)) order by id`,
        ).run(ids);
        for (const [table, cols] of Object.entries(COPY_COLUMNS)) {
          if (!tables.has(table)) continue;
          const list = cols.join(', ');
          db.prepare(
            `insert into ${table} (${list}) select ${list} from prev.${table}
             where sync_id in (select value from json_each(?)) order by id`,
          ).run(ids);
        }
        db.exec('commit');
      }
      return { kept, dropped, latestEndedAt: kept[0]?.endedAt ?? null };
    } catch (err) {
      if (db.inTransaction) db.exec('rollback');
      if (err instanceof C1zWriteError) throw err;
      throw new C1zWriteError(
        `Cannot add this sync to ${previousPath}: copying its earlier syncs failed (${(err as Error).message}). ` +
          `Move it away, or set ${KEEP_SYNC_COUNT_ENV}=1 to replace it.`,
        err,
      );
    } finally {
      db.exec('detach database prev');
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * An `ended_at` that sorts after `previous` as text, so baton picks the new run as the latest even
 * when an earlier run's clock (or Go's local-time stamp) is ahead of ours.
 */
export function endAfter(candidate: string, previous: string | null): string {
  if (previous === null || candidate > previous) return candidate;
  const m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?/.exec(previous);
  if (m) {
    const ms = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
    const nanos = Number((m[7] ?? '').padEnd(9, '0') || '0');
    // One microsecond later, in the same layout as every row we write.
    const next = nanos + 1000;
    const bumped = goTimestamp(new Date(ms + Math.floor(next / 1_000_000)), next % 1_000_000);
    if (bumped > previous) return bumped;
  }
  // A layout we cannot parse: append a digit, which sorts after the same prefix.
  return `${previous}1`;
}
