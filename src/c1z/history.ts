/**
 * Sync history inside one c1z, as baton keeps it: every sync appends a run to the existing file and
 * the oldest finished runs beyond `BATON_KEEP_SYNC_COUNT` (default 2, baton's) are dropped. The
 * latest run is the finished one with the greatest `ended_at` text (baton v0.2.58's choice), so a
 * new run must end after every run it joins.
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { checkC1zHeader, decodeC1z, decodeLimits } from './container.js';
import {
  C1zError,
  C1zLimitError,
  C1zWriteError,
  CorruptC1zError,
  NotC1zError,
  UnreadablePreviousC1zError,
  UnsupportedC1zVersionError,
} from './errors.js';
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

/** A previous c1z decoded and checked, ready to be joined; see openPreviousC1z. */
export interface PreviousC1z {
  path: string;
  /** The decoded SQLite database, in a folder of its own under the caller's temp dir. */
  decoded: string;
  /** Identity and version of the file when it was decoded: a file replaced since is decoded again. */
  signature: string;
}

function signatureOf(st: { dev: number; ino: number; size: number; mtimeMs: number }): string {
  return `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}`;
}

/** Errors that say the file itself is bad (not the disk or the permissions). */
function isBadFile(err: unknown): err is C1zError {
  return (
    err instanceof NotC1zError ||
    err instanceof CorruptC1zError ||
    err instanceof UnsupportedC1zVersionError ||
    err instanceof C1zLimitError
  );
}

/** A bad-file error about the previous c1z, said as the sync's own error; others unchanged. */
function asUnreadablePrevious(err: unknown, previousPath: string): unknown {
  if (!isBadFile(err)) return err;
  // Its message starts with the path this one already names.
  const detail = err.message.replace(`${previousPath} `, 'it ').replace(/\.$/, '');
  return new UnreadablePreviousC1zError(previousPath, detail, err);
}

/**
 * The header of the c1z a sync keeping `keep` runs will join, checked in milliseconds: a file that
 * is not a c1z at all fails now (UnreadablePreviousC1zError), before the sync's first request.
 * Resolves to the file's size, 0 when there is nothing to join.
 */
export async function checkPreviousC1zHeader(previousPath: string, keep: number): Promise<number> {
  if (keep <= 1) return 0;
  const size = await stat(previousPath).then(
    (st) => (st.isFile() ? st.size : 0),
    () => 0,
  );
  if (size === 0) return 0;
  try {
    await checkC1zHeader(previousPath, decodeLimits());
  } catch (err) {
    throw asUnreadablePrevious(err, previousPath);
  }
  return size;
}

/** SQLite's word for a file that is not a database, or a damaged one. */
function isSqliteDamage(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT';
}

/**
 * Decodes the c1z at `previousPath`, which a sync keeping `keep` runs will join, into a folder
 * under `tmpDir`, and checks that it holds sync runs; undefined when there is nothing to join (a
 * count of 1, a missing or empty file). Called before the sync sends any request: a file that is
 * not a readable c1z fails now with UnreadablePreviousC1zError (exit 2), not after the whole sync.
 */
export async function openPreviousC1z(
  previousPath: string,
  keep: number,
  tmpDir: string,
): Promise<PreviousC1z | undefined> {
  if (keep <= 1) return undefined;
  let signature: string;
  try {
    const st = await stat(previousPath);
    if (!st.isFile() || st.size === 0) return undefined;
    signature = signatureOf(st);
  } catch {
    return undefined;
  }
  const dir = await mkdtemp(join(tmpDir, 'previous-'));
  const decoded = join(dir, 'db');
  try {
    try {
      await decodeC1z(previousPath, decoded, decodeLimits());
    } catch (err) {
      throw asUnreadablePrevious(err, previousPath);
    }
    let db: Database.Database | undefined;
    try {
      db = new Database(decoded, { fileMustExist: true });
      const hasRuns = db
        .prepare(`select 1 from sqlite_master where type = 'table' and name = ?`)
        .get(TABLES.syncRuns);
      if (!hasRuns) {
        throw new UnreadablePreviousC1zError(previousPath, `it has no ${TABLES.syncRuns} table`);
      }
      listSyncRuns(db);
    } catch (err) {
      if (err instanceof UnreadablePreviousC1zError) throw err;
      throw new UnreadablePreviousC1zError(
        previousPath,
        `its database cannot be read: ${(err as Error).message}`,
        err,
      );
    } finally {
      db?.close();
    }
    return { path: previousPath, decoded, signature };
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

/**
 * Copies the newest `keep - 1` finished runs of the c1z at `previousPath` (and their rows) into
 * `db`, which holds the new run. Runs that never finished are left behind: the new run supersedes
 * them. Uses `opened` (from openPreviousC1z at the start of the sync) unless the file changed
 * since, and removes its decoded copy when done. Returns nothing to carry for a missing or empty
 * file. An unreadable previous file is an error: replacing it silently would lose its history (set
 * the count to 1 to replace it).
 */
export async function carryOverSyncs(
  db: Database.Database,
  previousPath: string,
  keep: number,
  tmpDir: string,
  opened?: PreviousC1z,
): Promise<CarriedOver> {
  const none: CarriedOver = { kept: [], dropped: [], latestEndedAt: null };
  let previous = opened;
  if (previous) {
    // Another process may have replaced the file during the sync: join what is there now.
    const now = await stat(previousPath).then(signatureOf, () => undefined);
    if (now !== previous.signature) {
      await rm(dirname(previous.decoded), { recursive: true, force: true });
      previous = undefined;
    }
  }
  previous ??= await openPreviousC1z(previousPath, keep, tmpDir);
  if (!previous) return none;
  try {
    db.prepare('attach database ? as prev').run(previous.decoded);
    try {
      const tables = new Set(
        (
          db.prepare(`select name from prev.sqlite_master where type = 'table'`).all() as { name: string }[]
        ).map((r) => r.name),
      );
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
      // Damage deeper in the database than the start-of-sync check reads.
      if (isSqliteDamage(err)) {
        throw new UnreadablePreviousC1zError(
          previousPath,
          `copying its earlier syncs failed: ${(err as Error).message}`,
          err,
        );
      }
      throw new C1zWriteError(
        `Cannot add this sync to ${previousPath}: copying its earlier syncs failed (${(err as Error).message}). ` +
          `Move it away, or set ${KEEP_SYNC_COUNT_ENV}=1 to replace it.`,
        err,
      );
    } finally {
      db.exec('detach database prev');
    }
  } finally {
    await rm(dirname(previous.decoded), { recursive: true, force: true });
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
