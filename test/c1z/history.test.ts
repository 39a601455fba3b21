import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { C1zReader } from '../../src/c1z/reader.js';
import { C1zWriter } from '../../src/c1z/writer.js';
import { UnreadablePreviousC1zError } from '../../src/c1z/errors.js';
import { endAfter, keepSyncCount } from '../../src/c1z/history.js';
import { ConfigError, ExitCode, formatError } from '../../src/errors.js';
import type Database from 'better-sqlite3';
import { FIXTURE, openRawDb, sampleData, useTempDirs, type Sample } from './helpers.js';

const tempDir = useTempDirs();

async function write(out: string, s: Sample, keepSyncs?: number): Promise<string> {
  const w = await C1zWriter.create(out, { keepSyncs });
  for (const x of s.resourceTypes) w.putResourceType(x);
  for (const x of s.resources) w.putResource(x);
  for (const x of s.entitlements) w.putEntitlement(x);
  for (const x of s.grants) w.putGrant(x);
  return (await w.finish()).syncId;
}

/**
 * baton v0.2.58's choice, as plain SQL on the raw file (no code of ours): the latest finished run
 * is the greatest ended_at text, the previous one is the next (offset 1).
 */
function batonPicks(db: Database.Database): { latest?: string; previous?: string } {
  const q = (offset: number) =>
    (
      db
        .prepare(
          `select sync_id from v1_sync_runs where ended_at is not null order by ended_at desc limit 1 offset ${offset}`,
        )
        .get() as { sync_id: string } | undefined
    )?.sync_id;
  return { latest: q(0), previous: q(1) };
}

const count = (db: Database.Database, table: string, syncId: string) =>
  (db.prepare(`select count(*) n from ${table} where sync_id = ?`).get(syncId) as { n: number }).n;

/** What v0.2.58 checks on open: the unique (external_id, sync_id) keys hold over every row. */
function uniqueKeysHold(db: Database.Database): void {
  for (const t of ['v1_resource_types', 'v1_resources', 'v1_entitlements', 'v1_grants']) {
    const dup = db
      .prepare(
        `select count(*) n from (select 1 from ${t} group by external_id, sync_id having count(*) > 1)`,
      )
      .get() as { n: number };
    expect(dup.n, t).toBe(0);
  }
  const names = (
    db.prepare(`select name from sqlite_master where type = 'index'`).all() as { name: string }[]
  ).map((r) => r.name);
  expect(names).toEqual(
    expect.arrayContaining([
      'idx_resource_types_external_sync_v1',
      'idx_resources_parent_resource_id_v1',
      'idx_entitlements_external_sync_v1',
      'idx_grants_external_sync_v1',
      'idx_sync_runs_sync_id_v1',
    ]),
  );
}

describe('sync history: a new sync joins the existing file', () => {
  it('keeps the last 2 syncs by default, drops older ones with their rows, baton picks the newest', async () => {
    const dir = tempDir();
    const out = join(dir, 'sync.c1z');
    const first = await write(out, sampleData(3), 2);
    const second = await write(out, sampleData(4), 2);
    let db = openRawDb(out, dir);
    expect(batonPicks(db)).toEqual({ latest: second, previous: first });
    expect(count(db, 'v1_resources', first)).toBe(3 + 4);
    expect(count(db, 'v1_resources', second)).toBe(4 + 4);
    uniqueKeysHold(db);
    db.close();

    const third = await write(out, sampleData(5), 2);
    db = openRawDb(out, dir);
    expect(batonPicks(db)).toEqual({ latest: third, previous: second });
    const runs = db.prepare('select sync_id from v1_sync_runs').all() as { sync_id: string }[];
    expect(runs.map((r) => r.sync_id).sort()).toEqual([second, third].sort());
    for (const t of ['v1_resource_types', 'v1_resources', 'v1_entitlements', 'v1_grants']) {
      expect(count(db, t, first), t).toBe(0);
    }
    expect(count(db, 'v1_grants', second)).toBe(sampleData(4).grants.length);
    uniqueKeysHold(db);
    db.close();

    const r = await C1zReader.open(out);
    try {
      expect(r.sync?.syncId).toBe(third);
      expect([...r.resources({ resourceType: 'user' })]).toHaveLength(5);
      expect(r.syncRuns().map((s) => s.syncId)).toEqual([third, second]);
    } finally {
      r.close();
    }
    const older = await C1zReader.open(out, { syncId: second });
    try {
      expect([...older.resources({ resourceType: 'user' })]).toHaveLength(4);
    } finally {
      older.close();
    }
  });

  it('keeps N syncs with a larger count, and one (a plain replace) with 1', async () => {
    const dir = tempDir();
    const out = join(dir, 'sync.c1z');
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push(await write(out, sampleData(2), 3));
    let db = openRawDb(out, dir);
    expect((db.prepare('select count(*) n from v1_sync_runs').get() as { n: number }).n).toBe(3);
    expect(batonPicks(db)).toEqual({ latest: ids[3], previous: ids[2] });
    db.close();
    const only = await write(out, sampleData(2), 1);
    db = openRawDb(out, dir);
    expect(db.prepare('select sync_id from v1_sync_runs').all()).toEqual([{ sync_id: only }]);
    db.close();
  });

  it("joins baton-coupa's own Go file: its sync stays intact, ours becomes baton's latest", async () => {
    const dir = tempDir();
    const out = join(dir, 'sync.c1z');
    copyFileSync(FIXTURE, out);
    const go = openRawDb(FIXTURE, dir);
    const goSync = batonPicks(go).latest!;
    const goGrants = go.prepare('select external_id, data from v1_grants order by id').all();
    go.close();
    const ours = await write(out, sampleData(3), 2);
    const db = openRawDb(out, dir);
    expect(batonPicks(db)).toEqual({ latest: ours, previous: goSync });
    expect(
      db.prepare('select external_id, data from v1_grants where sync_id = ? order by id').all(goSync),
    ).toEqual(goGrants);
    uniqueKeysHold(db);
    db.close();
  });

  it('a run that never finished is left behind; the finished one is kept', async () => {
    const dir = tempDir();
    const out = join(dir, 'sync.c1z');
    const finished = await write(out, sampleData(2), 2);
    // Forge an unfinished run by hand in a copy of the database, as a crashed Go sync would leave.
    const Database = (await import('better-sqlite3')).default;
    const { compress } = await import('zstd-napi');
    const raw = openRawDb(out, dir);
    const path = raw.name;
    raw.close();
    const rw = new Database(path);
    rw.prepare(
      `insert into v1_sync_runs (sync_id, started_at, ended_at, sync_token) values ('UNFINISHED', '2099-01-01 00:00:00', NULL, '')`,
    ).run();
    rw.close();
    writeFileSync(out, Buffer.concat([Buffer.from('C1ZF\0', 'latin1'), compress(readFileSync(path))]));
    const next = await write(out, sampleData(2), 2);
    const db = openRawDb(out, dir);
    const runs = (db.prepare('select sync_id from v1_sync_runs').all() as { sync_id: string }[]).map(
      (r) => r.sync_id,
    );
    expect(runs.sort()).toEqual([finished, next].sort());
    db.close();
  });

  it('an unreadable existing file fails create() (before any row), exit 2, stays byte-identical, and is replaced with count 1', async () => {
    const dir = tempDir();
    const out = join(dir, 'sync.c1z');
    const junk = Buffer.from('C1ZF\0not zstd at all');
    writeFileSync(out, junk);
    const err = await C1zWriter.create(out, { keepSyncs: 2 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnreadablePreviousC1zError);
    expect((err as UnreadablePreviousC1zError).exitCode).toBe(ExitCode.usage);
    expect(formatError(err)).toMatch(/not a readable c1z \(it is damaged: .*zstd.*BATON_KEEP_SYNC_COUNT=1/s);
    expect(formatError(err)).not.toMatch(/free space/);
    expect(readFileSync(out)).toEqual(junk);
    await write(out, sampleData(2), 1);
    expect(readFileSync(out).equals(junk)).toBe(false);
  });
});

describe('a large previous file is decoded during the sync, not before it', () => {
  it('its header is still checked before any row: not a c1z at all fails create(), exit 2', async () => {
    const out = join(tempDir(), 'sync.c1z');
    const junk = Buffer.from('PK\u0003\u0004 a zip, not a c1z');
    writeFileSync(out, junk);
    const err = await C1zWriter.create(out, { keepSyncs: 2, decodeUpfrontMaxBytes: 0 }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(UnreadablePreviousC1zError);
    expect(readFileSync(out)).toEqual(junk);
  });

  it('a body damaged past the header fails finish() with the same error, and the file stays as it was', async () => {
    const dir = tempDir();
    const out = join(dir, 'sync.c1z');
    copyFileSync(FIXTURE, out);
    const truncated = readFileSync(out).subarray(0, 4000);
    writeFileSync(out, truncated);
    const w = await C1zWriter.create(out, { keepSyncs: 2, decodeUpfrontMaxBytes: 0 });
    for (const x of sampleData(1).resourceTypes) w.putResourceType(x);
    const err = await w.finish().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnreadablePreviousC1zError);
    expect((err as UnreadablePreviousC1zError).exitCode).toBe(ExitCode.usage);
    await w.abort();
    expect(readFileSync(out)).toEqual(truncated);
  });

  it('a good one is joined as when decoded up front', async () => {
    const dir = tempDir();
    const out = join(dir, 'sync.c1z');
    const first = await write(out, sampleData(1), 2);
    const w = await C1zWriter.create(out, { keepSyncs: 2, decodeUpfrontMaxBytes: 0 });
    for (const x of sampleData(2).resourceTypes) w.putResourceType(x);
    const second = (await w.finish()).syncId;
    const db = openRawDb(out, dir);
    const runs = (db.prepare('select sync_id from v1_sync_runs').all() as { sync_id: string }[]).map(
      (r) => r.sync_id,
    );
    expect(runs.sort()).toEqual([first, second].sort());
    db.close();
  });
});

describe('the new run ends after every run it joins', () => {
  it('bumps past a later ended_at in the same layout, so text order still picks it', () => {
    expect(endAfter('2026-01-01 00:00:00.5', null)).toBe('2026-01-01 00:00:00.5');
    expect(endAfter('2026-01-02 00:00:00', '2026-01-01 23:59:59')).toBe('2026-01-02 00:00:00');
    const bumped = endAfter('2026-01-01 00:00:00', '2026-06-30 23:59:59.999999999');
    expect(bumped > '2026-06-30 23:59:59.999999999').toBe(true);
    expect(bumped).toMatch(/^2026-07-01 00:00:00\.\d+$/);
    expect(endAfter('2026-01-01 00:00:00', '2026-06-30 12:00:00') > '2026-06-30 12:00:00').toBe(true);
    expect(endAfter('a', 'zzz') > 'zzz').toBe(true);
  });

  it('BATON_KEEP_SYNC_COUNT: default 2, a whole number >= 1, else a usage error', () => {
    expect(keepSyncCount({})).toBe(2);
    expect(keepSyncCount({ BATON_KEEP_SYNC_COUNT: '5' })).toBe(5);
    expect(keepSyncCount({ BATON_KEEP_SYNC_COUNT: '1' })).toBe(1);
    for (const bad of ['0', '-1', '2.5', 'two']) {
      expect(() => keepSyncCount({ BATON_KEEP_SYNC_COUNT: bad })).toThrow(ConfigError);
    }
  });
});
