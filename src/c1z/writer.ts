import { mkdtemp, open, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { createReadStream, createWriteStream, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import Database from 'better-sqlite3';
import { toBinary, type DescMessage, type MessageShape } from '@bufbuild/protobuf';
import { BinaryWriter } from '@bufbuild/protobuf/wire';
import { CompressStream } from 'zstd-napi';
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
import { buildsAfterLoad, C1Z_MAGIC, GRANTS_UNIQUE_INDEX, SCHEMA_STATEMENTS, TABLES } from './schema.js';
import { newKsuid } from './ksuid.js';
import { goTimestampNow } from './timestamp.js';
import { C1zWriteError, UnreadablePreviousC1zError } from './errors.js';
import {
  carryOverSyncs,
  endAfter,
  checkPreviousC1zHeader,
  openPreviousC1z,
  type CarriedOver,
  type PreviousC1z,
  type SyncRunRow,
} from './history.js';
import { encodeSimpleGrantTail } from './grant-encoding.js';
import { fsyncDir } from '../util/durable-file.js';
import { checkOutputTarget } from '../util/output-target.js';
import { outputTempName, sweepOutputTemps, sweepTempDirs, tempDirPrefix } from '../util/leftovers.js';

export interface C1zWriterOptions {
  /** Where the temporary SQLite database lives (default: the OS temp dir). */
  tmpDir?: string;
  /** Rows per transaction. Bigger is faster; memory stays bounded either way. */
  batchSize?: number;
  /** zstd level (default 3, like Go's SpeedDefault). */
  compressionLevel?: number;
  /**
   * Full syncs the target keeps, this one included (baton's BATON_KEEP_SYNC_COUNT). Above 1, the
   * newest finished syncs of the existing target are carried into the new file at finish(); the
   * default 1 replaces the target with this sync alone. Above 1, create() decodes the existing
   * target and rejects one that is not a readable c1z (UnreadablePreviousC1zError).
   */
  keepSyncs?: number;
  /**
   * Above this size (default DECODE_UPFRONT_MAX_BYTES) create() checks only the existing target's
   * header and decodes the rest when the file gets ready to finish; damage past the header fails
   * finish() instead.
   */
  decodeUpfrontMaxBytes?: number;
}

export interface C1zWriteResult {
  path: string;
  bytes: number;
  syncId: string;
  /** Earlier syncs carried over from the previous file (newest first), and those left behind. */
  history: { kept: SyncRunRow[]; dropped: SyncRunRow[] };
}

/** What Go leaves in `sync_token` when a sync ends; copied so our rows look like Go's. */
const FINISHED_SYNC_TOKEN =
  '{"actions":null,"current_action":{"operation":"init"},"needs_expansion":false,"entitlement_graph":null}';

// Baton's store keeps the v0.2.58 upsert key (external_id, sync_id). On conflict we refresh every
// column, not just `data` as Go does, so the text columns can never disagree with the blob.
// Grants have no key index while they load (it is built at finish, or by prepareFinish once few
// rows are left), so `or replace` is a plain insert until then: duplicates are removed when the
// index is built, the last write winning; after it, `or replace` keeps the last write itself.
const SQL = {
  resourceType: `insert into ${TABLES.resourceTypes} (external_id, data, sync_id, discovered_at) values (?, ?, ?, ?)
    on conflict (external_id, sync_id) do update set data = excluded.data, discovered_at = excluded.discovered_at`,
  resource: `insert into ${TABLES.resources} (resource_type_id, external_id, parent_resource_type_id, parent_resource_id, data, sync_id, discovered_at)
    values (?, ?, ?, ?, ?, ?, ?)
    on conflict (external_id, sync_id) do update set resource_type_id = excluded.resource_type_id,
      parent_resource_type_id = excluded.parent_resource_type_id, parent_resource_id = excluded.parent_resource_id,
      data = excluded.data, discovered_at = excluded.discovered_at`,
  entitlement: `insert into ${TABLES.entitlements} (resource_type_id, resource_id, external_id, data, sync_id, discovered_at)
    values (?, ?, ?, ?, ?, ?)
    on conflict (external_id, sync_id) do update set resource_type_id = excluded.resource_type_id,
      resource_id = excluded.resource_id, data = excluded.data, discovered_at = excluded.discovered_at`,
  grant: `insert or replace into ${TABLES.grants} (resource_type_id, resource_id, entitlement_id, principal_resource_type_id, principal_resource_id, external_id, data, sync_id, discovered_at)
    values (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
} as const;

type Statement = Database.Statement<unknown[]>;

function keepCount(opts: C1zWriterOptions): number {
  return Math.max(1, Math.floor(opts.keepSyncs ?? 1));
}

/**
 * zstd's own threads compress the file; the result is one standard frame, as a single thread
 * writes it. The 444 MB database of a 100k-user sync: 1.0 s on one thread, 0.55 s on two (2 cores),
 * for 1.4% more bytes. Jobs of 2 MiB keep the threads' buffers to some 10 MB (zstd's default job
 * for level 3 is 8 MiB: +45 MB of RSS). At most 4 threads: beyond that the disk is the limit.
 */
/**
 * A previous c1z up to this size is decoded before the sync's first request (a 10k-user tenant's
 * file is a few MB); a larger one (a 100k tenant's two kept syncs are ~100 MB, seconds to decode)
 * only has its header checked then, and is decoded when the file gets ready to finish.
 */
export const DECODE_UPFRONT_MAX_BYTES = 16 << 20;

/** A decode started on first use, and whether it has started (abort waits only for one that has). */
interface LazyPrevious {
  get(): Promise<PreviousC1z | undefined>;
  readonly started: Promise<PreviousC1z | undefined> | undefined;
}

function lazy(open: () => Promise<PreviousC1z | undefined>): LazyPrevious {
  let started: Promise<PreviousC1z | undefined> | undefined;
  return {
    get: () => (started ??= open()),
    get started() {
      return started;
    },
  };
}

const COMPRESSION_THREADS = Math.min(4, availableParallelism());
const COMPRESSION_JOB_BYTES = 2 << 20;

/**
 * Writes one finished sync into a new c1z (baton-sdk v0.2.58's v1 format: `C1ZF\0` + zstd of an
 * SQLite database). Rows go to a temp database in batched transactions; `finish()` compresses it
 * next to the target and renames it into place, so the target changes only once the new file is
 * complete and on disk.
 */
export class C1zWriter {
  readonly syncId: string;
  readonly outPath: string;
  private readonly dir: string;
  private readonly dbPath: string;
  private readonly batchSize: number;
  private readonly compressionLevel: number;
  private readonly keepSyncs: number;
  private db: Database.Database | undefined;
  private readonly stmts: Record<keyof typeof SQL, Statement>;
  private readonly startedAt: string;
  private rowsInBatch = 0;
  private batchTimestamp = '';
  private state: 'open' | 'finishing' | 'done' | 'aborted' = 'open';
  /** prepareFinish()'s work, started once; finish() awaits it (or starts it). */
  private prepared: Promise<CarriedOver> | undefined;
  private preparing = false;
  /** Serialized `entitlement` field of grants, per Entitlement object: grants of one entitlement share it. */
  private entitlementBytes = new WeakMap<Entitlement, Uint8Array>();
  /**
   * A forced exit (a second Ctrl-C calls process.exit) skips finish/abort; the temp database holds
   * Coupa data and must not outlive the process anyway.
   */
  private readonly removeOnExit = () => {
    this.closeQuietly();
    rmSync(this.dir, { recursive: true, force: true });
    if (this.tmpOut) rmSync(this.tmpOut, { force: true });
  };
  /** The half-written `<out>.tmp-*` while finish() compresses, so a forced exit removes it too. */
  private tmpOut: string | undefined;

  /** The target's earlier c1z, decoded and checked at create() or when first asked for (see there). */
  private readonly previous: LazyPrevious;

  private constructor(outPath: string, dir: string, opts: C1zWriterOptions, previous: LazyPrevious) {
    this.previous = previous;
    this.outPath = outPath;
    this.dir = dir;
    this.dbPath = join(dir, 'db');
    process.once('exit', this.removeOnExit);
    this.batchSize = Math.max(1, Math.floor(opts.batchSize ?? 5000));
    this.compressionLevel = opts.compressionLevel ?? 3;
    this.keepSyncs = keepCount(opts);
    this.syncId = newKsuid();
    this.startedAt = goTimestampNow();
    const db = new Database(this.dbPath);
    this.db = db;
    // The temp DB is thrown away on any failure, so durability is not needed; rollback journal in
    // memory means no -wal/-journal files and a fully written main file at close.
    db.pragma('journal_mode = MEMORY');
    db.pragma('synchronous = OFF');
    // Index builds at finish sort millions of keys; the default temp store spills those sorts to
    // disk instead of holding them in memory.
    db.pragma('cache_size = -16000');
    for (const sql of SCHEMA_STATEMENTS) if (!buildsAfterLoad(sql)) db.exec(sql);
    db.prepare(
      `insert into ${TABLES.syncRuns} (sync_id, started_at, ended_at, sync_token) values (?, ?, NULL, ?)`,
    ).run(this.syncId, this.startedAt, '');
    this.stmts = {
      resourceType: db.prepare(SQL.resourceType),
      resource: db.prepare(SQL.resource),
      entitlement: db.prepare(SQL.entitlement),
      grant: db.prepare(SQL.grant),
    };
  }

  static async create(outPath: string, opts: C1zWriterOptions = {}): Promise<C1zWriter> {
    const target = resolve(outPath);
    // Fail before a long sync, not after it, with a usage error (exit 2): a missing or read-only
    // directory, devices, FIFOs and directories are refused; a symlink is written through.
    const path = await checkOutputTarget(target);
    // A killed earlier run's half-written files (Coupa data, possibly hundreds of MB) go now.
    sweepOutputTemps(path);
    sweepTempDirs(opts.tmpDir ?? tmpdir(), 'c1z-writer');
    let dir: string;
    try {
      dir = await mkdtemp(join(opts.tmpDir ?? tmpdir(), tempDirPrefix('c1z-writer')));
    } catch (err) {
      throw new C1zWriteError(
        `Cannot create a temp directory for ${target} under ${opts.tmpDir ?? tmpdir()}.`,
        err,
      );
    }
    // The file a sync that keeps history joins is checked now, so that a damaged one fails before
    // the sync sends a request, not after all of them. A small one (most tenants') is decoded and
    // read whole now. A large one takes seconds of CPU to decode, which every sync keeping history
    // would add to its wall time (and, on a small machine, take from the pages arriving): its
    // header is checked now and the rest is decoded when the file gets ready to finish, during the
    // last pages, as before; a body damaged past the header (a truncated copy) is reported then,
    // with the same error.
    let previous: LazyPrevious;
    try {
      const keep = keepCount(opts);
      const size = await checkPreviousC1zHeader(path, keep);
      if (size > (opts.decodeUpfrontMaxBytes ?? DECODE_UPFRONT_MAX_BYTES)) {
        previous = lazy(() => openPreviousC1z(path, keep, dir));
      } else {
        const opened = await openPreviousC1z(path, keep, dir);
        previous = lazy(() => Promise.resolve(opened));
      }
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
    try {
      return new C1zWriter(path, dir, opts, previous);
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      throw new C1zWriteError(`Cannot create the temp database for ${target} in ${dir}.`, err);
    }
  }

  putResourceType(rt: ResourceType): void {
    this.begin();
    this.stmts.resourceType.run(
      rt.id,
      this.encode(ResourceTypeSchema, rt, `resource type ${rt.id}`),
      this.syncId,
      this.batchTimestamp,
    );
    this.rowDone();
  }

  putResource(r: Resource): void {
    this.begin();
    const id = requireId(r.id?.resourceType, r.id?.resource, 'resource');
    this.stmts.resource.run(
      id.type,
      `${id.type}:${id.id}`,
      r.parentResourceId ? r.parentResourceId.resourceType : null,
      r.parentResourceId ? r.parentResourceId.resource : null,
      this.encode(ResourceSchema, r, `resource ${id.type}:${id.id}`),
      this.syncId,
      this.batchTimestamp,
    );
    this.rowDone();
  }

  putEntitlement(e: Entitlement): void {
    this.begin();
    const id = requireId(e.resource?.id?.resourceType, e.resource?.id?.resource, `entitlement ${e.id}`);
    this.stmts.entitlement.run(
      id.type,
      id.id,
      e.id,
      this.encode(EntitlementSchema, e, `entitlement ${e.id}`),
      this.syncId,
      this.batchTimestamp,
    );
    this.rowDone();
  }

  putGrant(g: Grant): void {
    this.begin();
    const ent = g.entitlement;
    if (!ent) throw new C1zWriteError(`Grant ${g.id} has no entitlement; every grant must reference one.`);
    const res = requireId(ent.resource?.id?.resourceType, ent.resource?.id?.resource, `grant ${g.id}`);
    const principal = requireId(
      g.principal?.id?.resourceType,
      g.principal?.id?.resource,
      `principal of grant ${g.id}`,
    );
    this.stmts.grant.run(
      res.type,
      res.id,
      ent.id,
      principal.type,
      principal.id,
      g.id,
      this.grantBytes(g, ent),
      this.syncId,
      this.batchTimestamp,
    );
    this.rowDone();
  }

  /**
   * Distinct rows written so far (a repeated id counts once). Grants are deduplicated only at
   * finish, so counting them sorts every grant id: call this at the end, not per row.
   */
  counts(): { resourceTypes: number; resources: number; entitlements: number; grants: number } {
    const db = this.openDb();
    const count = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
    return {
      resourceTypes: count(`select count(*) as n from ${TABLES.resourceTypes}`),
      resources: count(`select count(*) as n from ${TABLES.resources}`),
      entitlements: count(`select count(*) as n from ${TABLES.entitlements}`),
      grants: count(
        `select count(*) as n from (select 1 from ${TABLES.grants} group by external_id, sync_id)`,
      ),
    };
  }

  /**
   * Does now what finish() can do before the last rows: copies in the earlier syncs that are
   * kept, then builds the indexes left out while loading. Rows written afterwards go into indexed
   * tables, which is slower per row, so call it when few rows are left and the process is
   * otherwise waiting: the sync does, once the users walk has its last requests out, so that this
   * work overlaps the last round trips instead of following them. The file is the same either way.
   * Nothing may be written until it resolves; calling it again returns the same promise. It never
   * rejects: a failure (copying the earlier syncs, or an earlier file replaced during the sync by
   * one that is not a readable c1z) is finish()'s to report, as before, so that it cannot hide an
   * error the sync itself runs into meanwhile.
   */
  prepareFinish(): Promise<void> {
    return this.prepare().then(
      () => undefined,
      () => undefined,
    );
  }

  private prepare(): Promise<CarriedOver> {
    this.prepared ??= (async () => {
      const db = this.openDb();
      this.preparing = true;
      try {
        if (db.inTransaction) db.exec('commit');
        this.rowsInBatch = 0;
        // Copy, add, compact: only the kept runs are copied in, so the new file never holds rows
        // of dropped syncs and needs no VACUUM; copied before the index build, which is faster.
        const history = await carryOverSyncs(
          db,
          this.outPath,
          this.keepSyncs,
          this.dir,
          await this.previous.get(),
        );
        this.buildDeferredIndexes(db);
        return history;
      } finally {
        this.preparing = false;
      }
    })();
    return this.prepared;
  }

  /**
   * Ends the sync run, closes the database and atomically replaces the target: magic + zstd go to
   * `<out>.tmp-*` in the target's directory, which is fsynced and renamed over the target.
   */
  async finish(): Promise<C1zWriteResult> {
    const db = this.openDb();
    const prepared = this.prepare(); // started while the writer is still open, if not yet
    this.state = 'finishing';
    try {
      const history = await prepared;
      if (db.inTransaction) db.exec('commit');
      let endedAt = goTimestampNow();
      if (endedAt < this.startedAt) endedAt = this.startedAt;
      endedAt = endAfter(endedAt, history.latestEndedAt);
      db.prepare(`update ${TABLES.syncRuns} set ended_at = ?, sync_token = ? where sync_id = ?`).run(
        endedAt,
        FINISHED_SYNC_TOKEN,
        this.syncId,
      );
      db.close();
      this.db = undefined;

      const tmpOut = outputTempName(this.outPath, randomBytes(6).toString('hex'));
      this.tmpOut = tmpOut;
      await this.compressTo(tmpOut);
      await rename(tmpOut, this.outPath);
      this.tmpOut = undefined;
      fsyncDir(dirname(this.outPath));
      const { size } = await stat(this.outPath);
      this.state = 'done';
      return {
        path: this.outPath,
        bytes: size,
        syncId: this.syncId,
        history: { kept: history.kept, dropped: history.dropped },
      };
    } catch (err) {
      this.state = 'aborted';
      if (this.tmpOut) await unlink(this.tmpOut).catch(() => undefined);
      this.tmpOut = undefined;
      // A previous file found damaged at the end (decoded during the sync, or replaced since the
      // start) is the same usage error as at the start, not a write failure.
      throw err instanceof C1zWriteError || err instanceof UnreadablePreviousC1zError
        ? err
        : new C1zWriteError(`Writing ${this.outPath} failed: ${(err as Error).message}`, err);
    } finally {
      this.closeQuietly();
      await rm(this.dir, { recursive: true, force: true });
      process.off('exit', this.removeOnExit);
    }
  }

  /** Throws everything away; the target path is never touched. Safe to call more than once. */
  async abort(): Promise<void> {
    if (this.state === 'done') return;
    this.state = 'aborted';
    this.closeQuietly();
    // A decode still writing into the temp dir would recreate what rm removes.
    await this.previous.started?.catch(() => undefined);
    await rm(this.dir, { recursive: true, force: true });
    process.off('exit', this.removeOnExit);
  }

  /**
   * Builds the indexes left out during loading, in v0.2.58's statement order. A repeated grant id
   * makes the unique key fail; then the earlier copies go (the last write wins, as an upsert
   * would) and the key is built again.
   */
  private buildDeferredIndexes(db: Database.Database): void {
    for (const sql of SCHEMA_STATEMENTS) {
      if (!buildsAfterLoad(sql)) continue;
      try {
        db.exec(sql);
      } catch (err) {
        if (
          !sql.includes(GRANTS_UNIQUE_INDEX) ||
          (err as { code?: string }).code !== 'SQLITE_CONSTRAINT_UNIQUE'
        )
          throw err;
        db.exec(
          `delete from ${TABLES.grants} where id not in (select max(id) from ${TABLES.grants} group by external_id, sync_id)`,
        );
        db.exec(sql);
      }
    }
  }

  private async compressTo(tmpOut: string): Promise<void> {
    // Owner-only: the file holds emails, employee numbers and who is an admin.
    await writeFile(tmpOut, C1Z_MAGIC, { flag: 'wx', mode: 0o600 });
    // Level 3 keeps the window at 2^21, far below baton's 2^27 cap; CRC on as Go writes it.
    await pipeline(
      createReadStream(this.dbPath, { highWaterMark: 1 << 20 }),
      new CompressStream({
        compressionLevel: this.compressionLevel,
        checksumFlag: true,
        nbWorkers: COMPRESSION_THREADS,
        jobSize: COMPRESSION_JOB_BYTES,
      }),
      createWriteStream(tmpOut, { flags: 'a' }),
    );
    const fh = await open(tmpOut, 'r+');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  }

  /**
   * Grant bytes = field 1 (entitlement, cached per Entitlement object) followed by the rest of the
   * grant. Protobuf concatenation is field merging, so this decodes to exactly `g`; it saves
   * re-serialising the entitlement's full resource copy for each of its grants. The rest is
   * hand-encoded for the shape every sync grant has (principal = bare id, no annotations); any
   * other grant goes through the generic encoder.
   */
  private grantBytes(g: Grant, ent: Entitlement): Uint8Array {
    let entField = this.entitlementBytes.get(ent);
    if (!entField) {
      entField = new BinaryWriter()
        .tag(1, 2)
        .bytes(this.encode(EntitlementSchema, ent, `entitlement ${ent.id} of grant ${g.id}`))
        .finish();
      this.entitlementBytes.set(ent, entField);
    }
    const simple = encodeSimpleGrantTail(g);
    if (simple) return simple(entField);
    const rest = this.encode(GrantSchema, { ...g, entitlement: undefined }, `grant ${g.id}`);
    const out = Buffer.allocUnsafe(entField.length + rest.length);
    out.set(entField, 0);
    out.set(rest, entField.length);
    return out;
  }

  /** Serialisation fails only on malformed messages (e.g. a plain object where a message belongs). */
  private encode<Desc extends DescMessage>(
    schema: Desc,
    message: MessageShape<Desc>,
    what: string,
  ): Uint8Array {
    try {
      return toBinary(schema, message);
    } catch (err) {
      throw new C1zWriteError(
        `Cannot serialise ${what} as ${schema.typeName}: ${(err as Error).message}`,
        err,
      );
    }
  }

  private openDb(): Database.Database {
    if (this.state !== 'open' || !this.db) {
      throw new C1zWriteError(
        `The c1z writer for ${this.outPath} is already ${this.state}; create a new one.`,
      );
    }
    return this.db;
  }

  private begin(): Database.Database {
    const db = this.openDb();
    if (this.preparing) {
      throw new C1zWriteError(
        `A row was written to ${this.outPath} while prepareFinish() was running; await it first.`,
      );
    }
    if (!db.inTransaction) {
      db.exec('begin');
      this.batchTimestamp = goTimestampNow();
    }
    return db;
  }

  private rowDone(): void {
    if (++this.rowsInBatch >= this.batchSize) {
      this.rowsInBatch = 0;
      this.db?.exec('commit');
    }
  }

  private closeQuietly(): void {
    try {
      this.db?.close();
    } catch {
      // already failing; the temp dir is removed next
    }
    this.db = undefined;
  }
}

function requireId(
  type: string | undefined,
  id: string | undefined,
  what: string,
): { type: string; id: string } {
  if (!type || !id)
    throw new C1zWriteError(`Cannot store ${what}: its resource id needs both a type and an id.`);
  return { type, id };
}
