import { mkdtemp, open, rm } from 'node:fs/promises';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { fromBinary, type DescMessage, type MessageShape } from '@bufbuild/protobuf';
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
import { REQUIRED_TABLES, TABLES } from './schema.js';
import { decodeC1z, decodeLimits } from './container.js';
import { C1zError, CorruptC1zError, NoSyncError, UnknownSyncIdError } from './errors.js';
import { listSyncRuns, type SyncRunRow } from './history.js';
import { sweepTempDirs, tempDirPrefix } from '../util/leftovers.js';

export interface C1zReaderOptions {
  /** Where the decompressed database goes (default: the OS temp dir). */
  tmpDir?: string;
  /** Decoded-size cap; default BATON_DECODER_MAX_DECODED_SIZE_MB or 3 GiB. */
  maxDecodedBytes?: number;
  /** zstd window cap; default BATON_DECODER_MAX_MEMORY_MB or 128 MiB. */
  maxWindowBytes?: number;
  /** Read this sync instead of the one baton would pick. */
  syncId?: string;
  /** Fail with NoSyncError unless the file holds a finished sync (baton would fall back). */
  requireFinished?: boolean;
}

export interface SyncRun {
  syncId: string;
  startedAt: string;
  /** null = the sync never finished. */
  endedAt: string | null;
}

export interface GrantFilter {
  resourceType?: string;
  resourceId?: string;
  entitlementId?: string;
  principalType?: string;
  principalId?: string;
}

/** A grant as its row's columns: enough to join who holds what. */
export interface GrantEdge {
  entitlementId: string;
  /** The resource the entitlement belongs to. */
  resourceType: string;
  resourceId: string;
  principalType: string;
  principalId: string;
}

export interface C1zStats {
  resourceTypes: number;
  resources: Record<string, number>;
  entitlements: number;
  grants: number;
  grantsByResourceType: Record<string, number>;
}

/**
 * Rows per query; like baton's page size, it bounds memory while letting callers look things up
 * mid-iteration. Exported so tests can cross its boundaries.
 */
export const PAGE_SIZE = 5000;

type Params = (string | number)[];
type Row = { id: number; data: Uint8Array };

/**
 * Reads a v1 c1z (ours or Go's). The file is decompressed into a temp dir once; rows are then
 * streamed page by page from the sync baton would show (§2.3 of the format doc): the latest
 * finished run, else the latest unfinished one, else rows of every sync.
 */
export class C1zReader {
  readonly path: string;
  readonly sync: SyncRun | null;
  private readonly db: Database.Database;
  private readonly statements = new Map<string, Database.Statement>();
  private readonly dir: string;
  private closed = false;
  /** The decoded copy holds Coupa data: a forced exit (process.exit) that skips close() removes it too. */
  private readonly removeOnExit = () => this.close();

  /** A view made by forSync() shares its owner's database; closing the view leaves it open. */
  private readonly owner: C1zReader | undefined;

  private constructor(
    path: string,
    dir: string,
    db: Database.Database,
    sync: SyncRun | null,
    owner?: C1zReader,
  ) {
    this.path = path;
    this.dir = dir;
    this.db = db;
    this.sync = sync;
    this.owner = owner;
    if (!owner) process.once('exit', this.removeOnExit);
  }

  /**
   * The same file seen at another of its syncs (diff, `--sync-id`), without decoding it again.
   * Valid while this reader is open.
   */
  forSync(syncId: string): C1zReader {
    const run = this.syncRuns().find((r) => r.syncId === syncId);
    if (!run) throw new UnknownSyncIdError(this.path, syncId);
    const { syncToken: _token, ...sync } = run;
    return new C1zReader(this.path, this.dir, this.db, sync, this.owner ?? this);
  }

  /** The decoded database, for set operations across syncs and files (src/c1z/diff.ts). */
  sqlite(): Database.Database {
    if (this.isClosed) throw new C1zError(this.path, `The reader for ${this.path} is closed.`);
    return this.db;
  }

  /** Rows per sync run, for `syncs`. */
  countsBySync(): Record<string, { resources: number; entitlements: number; grants: number }> {
    const out: Record<string, { resources: number; entitlements: number; grants: number }> = {};
    const add = (table: string, key: 'resources' | 'entitlements' | 'grants') => {
      const rows = this.query(() =>
        this.db.prepare(`select sync_id as s, count(*) as n from ${table} group by sync_id`).all(),
      ) as { s: string; n: number }[];
      for (const r of rows) (out[r.s] ??= { resources: 0, entitlements: 0, grants: 0 })[key] = r.n;
    };
    add(TABLES.resources, 'resources');
    add(TABLES.entitlements, 'entitlements');
    add(TABLES.grants, 'grants');
    return out;
  }

  private get isClosed(): boolean {
    return this.closed || (this.owner?.closed ?? false);
  }

  static async open(path: string, opts: C1zReaderOptions = {}): Promise<C1zReader> {
    let dir: string;
    try {
      sweepTempDirs(opts.tmpDir ?? tmpdir(), 'c1z');
      dir = await mkdtemp(join(opts.tmpDir ?? tmpdir(), tempDirPrefix('c1z')));
    } catch (err) {
      throw new C1zError(
        path,
        `Cannot create a temp directory to read ${path}.`,
        'Set TMPDIR to a writable directory.',
        err,
      );
    }
    let db: Database.Database | undefined;
    try {
      const dbPath = join(dir, 'db');
      await decodeC1z(path, dbPath, decodeLimits(opts));
      await checkSqliteHeader(path, dbPath);
      try {
        db = new Database(dbPath, { readonly: true, fileMustExist: true });
        checkTables(path, db);
      } catch (err) {
        if (err instanceof C1zError) throw err;
        throw new CorruptC1zError(
          path,
          `the decompressed data is not a readable SQLite database (${(err as Error).message})`,
          err,
        );
      }
      const sync = pickSync(path, db, opts);
      return new C1zReader(path, dir, db, sync);
    } catch (err) {
      db?.close();
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
  }

  /** Every sync run in the file, newest first in baton's order (the latest finished one first). */
  syncRuns(): SyncRunRow[] {
    return this.query(() => listSyncRuns(this.db));
  }

  /** True when the chosen sync has an end time (baton's `Stats` only counts finished syncs). */
  get finished(): boolean {
    return this.sync?.endedAt != null;
  }

  resourceTypes(): IterableIterator<ResourceType> {
    return this.list(TABLES.resourceTypes, ResourceTypeSchema, [], []);
  }

  resources(filter: { resourceType?: string } = {}): IterableIterator<Resource> {
    const where: string[] = [];
    const params: Params = [];
    addEq(where, params, 'resource_type_id', filter.resourceType);
    return this.list(TABLES.resources, ResourceSchema, where, params);
  }

  entitlements(filter: { resourceType?: string; resourceId?: string } = {}): IterableIterator<Entitlement> {
    const where: string[] = [];
    const params: Params = [];
    addEq(where, params, 'resource_type_id', filter.resourceType);
    addEq(where, params, 'resource_id', filter.resourceId);
    return this.list(TABLES.entitlements, EntitlementSchema, where, params);
  }

  grants(filter: GrantFilter = {}): IterableIterator<Grant> {
    const where: string[] = [];
    const params: Params = [];
    addEq(where, params, 'resource_type_id', filter.resourceType);
    addEq(where, params, 'resource_id', filter.resourceId);
    addEq(where, params, 'entitlement_id', filter.entitlementId);
    addEq(where, params, 'principal_resource_type_id', filter.principalType);
    addEq(where, params, 'principal_resource_id', filter.principalId);
    return this.list(TABLES.grants, GrantSchema, where, params);
  }

  getResourceType(id: string): ResourceType | undefined {
    return this.getOne(TABLES.resourceTypes, ResourceTypeSchema, ['external_id = ?'], [id]);
  }

  getResource(type: string, id: string): Resource | undefined {
    return this.getOne(
      TABLES.resources,
      ResourceSchema,
      ['resource_type_id = ?', 'external_id = ?'],
      [type, `${type}:${id}`],
    );
  }

  getEntitlement(id: string): Entitlement | undefined {
    return this.getOne(TABLES.entitlements, EntitlementSchema, ['external_id = ?'], [id]);
  }

  getGrant(id: string): Grant | undefined {
    return this.getOne(TABLES.grants, GrantSchema, ['external_id = ?'], [id]);
  }

  stats(): C1zStats {
    const count = (table: string) => {
      const { sql, params } = this.scoped(`select count(*) as n from ${table}`, [], []);
      return (this.query(() => this.db.prepare(sql).get(...params)) as { n: number }).n;
    };
    const grouped = (table: string) => {
      const { sql, params } = this.scoped(
        `select resource_type_id as k, count(*) as n from ${table}`,
        [],
        [],
      );
      const rows = this.query(() =>
        this.db.prepare(`${sql} group by resource_type_id order by resource_type_id`).all(...params),
      ) as {
        k: string;
        n: number;
      }[];
      return Object.fromEntries(rows.map((r) => [r.k, r.n]));
    };
    return {
      resourceTypes: count(TABLES.resourceTypes),
      resources: grouped(TABLES.resources),
      entitlements: count(TABLES.entitlements),
      grants: count(TABLES.grants),
      grantsByResourceType: grouped(TABLES.grants),
    };
  }

  /**
   * Every grant of the sync as its column values only: who holds which entitlement, without
   * decoding a blob. Reviews and reports join 700k grants this way in a second or two.
   */
  *grantEdges(): Generator<GrantEdge, void, undefined> {
    const cols =
      'id, entitlement_id as e, resource_type_id as rt, resource_id as r, principal_resource_type_id as pt, principal_resource_id as p';
    const { sql, params } = this.scoped(`select ${cols} from ${TABLES.grants}`, ['id > ?'], []);
    const stmt = this.query(() => this.prepared(`${sql} order by id limit ${PAGE_SIZE}`));
    let last = 0;
    for (;;) {
      if (this.closed) return;
      const rows = this.query(() => stmt.all(last, ...params)) as {
        id: number;
        e: string;
        rt: string;
        r: string;
        pt: string;
        p: string;
      }[];
      for (const row of rows) {
        yield {
          entitlementId: String(row.e),
          resourceType: String(row.rt),
          resourceId: String(row.r),
          principalType: String(row.pt),
          principalId: String(row.p),
        };
      }
      if (rows.length < PAGE_SIZE) return;
      last = rows[rows.length - 1]!.id;
    }
  }

  /** Grants per entitlement id, in one grouped query (the `entitlements` listing's member counts). */
  grantCountsByEntitlement(): Map<string, number> {
    const { sql, params } = this.scoped(
      `select entitlement_id as k, count(*) as n from ${TABLES.grants}`,
      [],
      [],
    );
    const rows = this.query(() => this.prepared(`${sql} group by entitlement_id`).all(...params)) as {
      k: string;
      n: number;
    }[];
    return new Map(rows.map((r) => [String(r.k), r.n]));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.owner) return;
    process.off('exit', this.removeOnExit);
    try {
      this.db.close();
    } finally {
      rmSync(this.dir, { recursive: true, force: true });
    }
  }

  private scoped(select: string, where: string[], params: Params): { sql: string; params: Params } {
    const w = [...where];
    const p = [...params];
    if (this.sync) {
      w.push('sync_id = ?');
      p.push(this.sync.syncId);
    }
    return { sql: w.length ? `${select} where ${w.join(' and ')}` : select, params: p };
  }

  private *list<Desc extends DescMessage>(
    table: string,
    schema: Desc,
    where: string[],
    params: Params,
  ): Generator<MessageShape<Desc>, void, undefined> {
    // Pages, not stmt.iterate(): callers run lookups on this connection while the generator is
    // suspended (inspector `access`, demo), and better-sqlite3 refuses that while an iterator is open.
    if (where.length === 0) yield* this.listByRowid(table, schema);
    else yield* this.listByIds(table, schema, where, params);
  }

  /** Unfiltered, the primary key is already in id order: each page starts where the last ended. */
  private *listByRowid<Desc extends DescMessage>(
    table: string,
    schema: Desc,
  ): Generator<MessageShape<Desc>, void, undefined> {
    const { sql, params } = this.scoped(`select id, data from ${table}`, ['id > ?'], []);
    const stmt = this.query(() => this.prepared(`${sql} order by id limit ${PAGE_SIZE}`));
    let last = 0;
    for (;;) {
      if (this.isClosed) return;
      const rows = this.query(() => stmt.all(last, ...params)) as Row[];
      if (!(yield* this.decodeAll(table, schema, rows))) return;
      if (rows.length < PAGE_SIZE) return;
      last = rows[rows.length - 1]!.id;
    }
  }

  /**
   * Filters are often served by an index that is not in id order (grants by entitlement: the index
   * goes on by principal), so a keyset page (`id > ? order by id limit n`) made SQLite collect and
   * sort every remaining match again for each page: quadratic in the matches. The matching ids are
   * small integers, so they are collected and sorted once (a few bytes per row, where a page holds
   * the blobs), then the rows are fetched by id a page at a time. Growing pages would only shrink
   * the constant, and a keyset in index order would need a re-sort per window; this stays linear.
   */
  private *listByIds<Desc extends DescMessage>(
    table: string,
    schema: Desc,
    where: string[],
    params: Params,
  ): Generator<MessageShape<Desc>, void, undefined> {
    const { sql, params: p } = this.scoped(`select id from ${table}`, where, params);
    const ids = this.query(() =>
      this.prepared(`${sql} order by id`)
        .pluck()
        .all(...p),
    ) as number[];
    const byId = `select id, data from ${table} where id in (select value from json_each(?)) order by id`;
    for (let i = 0; i < ids.length; i += PAGE_SIZE) {
      if (this.isClosed) return;
      const batch = JSON.stringify(ids.slice(i, i + PAGE_SIZE));
      const rows = this.query(() => this.prepared(byId).all(batch)) as Row[];
      if (!(yield* this.decodeAll(table, schema, rows))) return;
    }
  }

  /** A reader closed mid-listing ends the listing there; false tells the caller to stop too. */
  private *decodeAll<Desc extends DescMessage>(
    table: string,
    schema: Desc,
    rows: Row[],
  ): Generator<MessageShape<Desc>, boolean, undefined> {
    for (const row of rows) {
      if (this.isClosed) return false;
      yield this.decode(table, schema, row);
    }
    return !this.isClosed;
  }

  private getOne<Desc extends DescMessage>(
    table: string,
    schema: Desc,
    where: string[],
    params: Params,
  ): MessageShape<Desc> | undefined {
    const { sql, params: p } = this.scoped(`select id, data from ${table}`, where, params);
    const row = this.query(() => this.prepared(`${sql} order by id limit 1`).get(...p)) as
      { id: number; data: Uint8Array } | undefined;
    return row ? this.decode(table, schema, row) : undefined;
  }

  /** Lookups repeat per row in the inspector (one per principal): prepare each statement once. */
  private prepared(sql: string): Database.Statement {
    let stmt = this.statements.get(sql);
    if (!stmt) {
      stmt = this.db.prepare(sql);
      this.statements.set(sql, stmt);
    }
    return stmt;
  }

  private decode<Desc extends DescMessage>(
    table: string,
    schema: Desc,
    row: { id: number; data: Uint8Array },
  ): MessageShape<Desc> {
    try {
      return fromBinary(schema, row.data);
    } catch (err) {
      throw new CorruptC1zError(
        this.path,
        `row ${row.id} of ${table} is not a valid ${schema.typeName} (${(err as Error).message})`,
        err,
      );
    }
  }

  /** SQLite can discover corruption at any page it touches, not only at open. */
  private query<T>(run: () => T): T {
    if (this.isClosed) throw new C1zError(this.path, `The reader for ${this.path} is closed.`);
    try {
      return run();
    } catch (err) {
      if (err instanceof C1zError) throw err;
      throw new CorruptC1zError(this.path, `reading the database failed (${(err as Error).message})`, err);
    }
  }
}

function addEq(where: string[], params: Params, column: string, value: string | undefined): void {
  if (value === undefined) return;
  where.push(`${column} = ?`);
  params.push(value);
}

const SQLITE_HEADER = Buffer.from('SQLite format 3\0', 'latin1');

/**
 * Catches garbage before SQLite sees it, and clears Go's WAL flag: Go's files are fully
 * checkpointed but marked WAL (header bytes 18/19 = 2), which a read-only open would otherwise
 * try to honour by creating -shm/-wal files.
 */
async function checkSqliteHeader(path: string, dbPath: string): Promise<void> {
  const fh = await open(dbPath, 'r+');
  try {
    const head = Buffer.alloc(100);
    const { bytesRead } = await fh.read(head, 0, 100, 0);
    if (bytesRead < 100 || !head.subarray(0, 16).equals(SQLITE_HEADER)) {
      throw new CorruptC1zError(path, 'the decompressed data is not an SQLite database');
    }
    if (head[18] === 2 || head[19] === 2) await fh.write(Buffer.from([1, 1]), 0, 2, 18);
  } finally {
    await fh.close();
  }
}

function checkTables(path: string, db: Database.Database): void {
  const rows = db.prepare(`select name from sqlite_master where type = 'table'`).all() as { name: string }[];
  const have = new Set(rows.map((r) => r.name));
  const missing = REQUIRED_TABLES.filter((t) => !have.has(t));
  if (missing.length)
    throw new CorruptC1zError(path, `the database lacks the c1z table(s) ${missing.join(', ')}`);
}

function pickSync(path: string, db: Database.Database, opts: C1zReaderOptions): SyncRun | null {
  const cols = `sync_id as syncId, started_at as startedAt, ended_at as endedAt`;
  const q = (sql: string, ...p: string[]) => {
    try {
      return db.prepare(sql).get(...p) as SyncRun | undefined;
    } catch (err) {
      throw new CorruptC1zError(path, `its sync runs cannot be read (${(err as Error).message})`, err);
    }
  };
  if (opts.syncId !== undefined) {
    const run = q(`select ${cols} from ${TABLES.syncRuns} where sync_id = ?`, opts.syncId);
    if (!run) throw new UnknownSyncIdError(path, opts.syncId);
    return normalise(run);
  }
  // baton v0.2.58: latest finished by ended_at (text order), else latest unfinished by started_at.
  const finished = q(
    `select ${cols} from ${TABLES.syncRuns} where ended_at is not null order by ended_at desc limit 1`,
  );
  if (finished) return normalise(finished);
  if (opts.requireFinished) throw new NoSyncError(path, 'no sync in it has finished');
  const unfinished = q(
    `select ${cols} from ${TABLES.syncRuns} where ended_at is null order by started_at desc limit 1`,
  );
  return unfinished ? normalise(unfinished) : null;
}

function normalise(run: SyncRun): SyncRun {
  return {
    syncId: String(run.syncId),
    startedAt: String(run.startedAt),
    endedAt: run.endedAt == null ? null : String(run.endedAt),
  };
}
