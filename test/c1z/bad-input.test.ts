import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { compress } from 'zstd-napi';
import { C1zReader } from '../../src/c1z/reader.js';
import { C1zWriter } from '../../src/c1z/writer.js';
import { decodeLimits } from '../../src/c1z/container.js';
import { SCHEMA_STATEMENTS } from '../../src/c1z/schema.js';
import {
  C1zError,
  C1zLimitError,
  CorruptC1zError,
  NoSyncError,
  NotC1zError,
  UnsupportedC1zVersionError,
} from '../../src/c1z/errors.js';
import { ExitCode } from '../../src/errors.js';
import { sampleData, useTempDirs } from './helpers.js';

const tempDir = useTempDirs();
const MAGIC = Buffer.from('C1ZF\0', 'latin1');

async function validFile(dir: string): Promise<string> {
  const w = await C1zWriter.create(join(dir, 'valid.c1z'));
  const s = sampleData(40);
  s.resourceTypes.forEach((x) => w.putResourceType(x));
  s.resources.forEach((x) => w.putResource(x));
  s.entitlements.forEach((x) => w.putEntitlement(x));
  s.grants.forEach((x) => w.putGrant(x));
  return (await w.finish()).path;
}

/** Builds a c1z by hand: our schema, then whatever rows the test wants, compressed in one frame. */
function handMade(dir: string, name: string, fill: (db: Database.Database) => void, schema = true): string {
  const dbPath = join(dir, `${name}.db`);
  const db = new Database(dbPath);
  if (schema) for (const s of SCHEMA_STATEMENTS) db.exec(s);
  fill(db);
  db.close();
  const out = join(dir, `${name}.c1z`);
  writeFileSync(out, Buffer.concat([MAGIC, compress(readFileSync(dbPath))]));
  return out;
}

/** Opens and expects a typed error; also checks the reader cleaned its temp dir. */
async function expectOpenError<T extends C1zError>(
  path: string,
  type: new (...args: never[]) => T,
  message: RegExp,
  opts: Parameters<typeof C1zReader.open>[1] = {},
): Promise<T> {
  const tmp = tempDir();
  const err = await C1zReader.open(path, { ...opts, tmpDir: tmp }).then(
    (r) => {
      r.close();
      return undefined;
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(type);
  expect((err as T).message).toMatch(message);
  expect((err as T).exitCode).toBe(ExitCode.usage);
  expect(readdirSync(tmp)).toEqual([]);
  return err as T;
}

describe('C1zReader refuses bad input with typed errors', () => {
  it('empty file', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'empty.c1z'), '');
    await expectOpenError(join(dir, 'empty.c1z'), NotC1zError, /empty/);
  });

  it('missing file, or a directory', async () => {
    await expectOpenError(join(tempDir(), 'nope.c1z'), C1zError, /does not exist/);
    await expectOpenError(tempDir(), C1zError, /is not a file/);
  });

  it('wrong magic', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'zip.c1z'), Buffer.from('PK\x03\x04 definitely a zip', 'latin1'));
    await expectOpenError(join(dir, 'zip.c1z'), NotC1zError, /not a c1z file.*50 4b 03 04/);
    writeFileSync(join(dir, 'short.c1z'), 'C1');
    await expectOpenError(join(dir, 'short.c1z'), NotC1zError, /not a c1z file/);
  });

  it('v3 (Pebble) magic', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'v3.c1z'), Buffer.concat([Buffer.from('C1Z3\0', 'latin1'), randomBytes(64)]));
    const err = await expectOpenError(
      join(dir, 'v3.c1z'),
      UnsupportedC1zVersionError,
      /v3 \(Pebble\) files are not supported/,
    );
    expect(err.hint).toMatch(/v1/);
  });

  it('magic with nothing after it, or not zstd after it', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'bare.c1z'), MAGIC);
    await expectOpenError(join(dir, 'bare.c1z'), CorruptC1zError, /no compressed data/);
    writeFileSync(
      join(dir, 'raw.c1z'),
      Buffer.concat([MAGIC, Buffer.from('SQLite format 3\0'), randomBytes(200)]),
    );
    await expectOpenError(join(dir, 'raw.c1z'), CorruptC1zError, /not zstd/);
  });

  it('truncated zstd stream (cut in the middle, or just the last bytes)', async () => {
    const dir = tempDir();
    const bytes = readFileSync(await validFile(dir));
    writeFileSync(join(dir, 'half.c1z'), bytes.subarray(0, Math.floor(bytes.length / 2)));
    await expectOpenError(join(dir, 'half.c1z'), CorruptC1zError, /truncated or damaged/);
    writeFileSync(join(dir, 'tail.c1z'), bytes.subarray(0, bytes.length - 3));
    await expectOpenError(join(dir, 'tail.c1z'), CorruptC1zError, /truncated or damaged/);
    writeFileSync(join(dir, 'header.c1z'), bytes.subarray(0, 7));
    await expectOpenError(
      join(dir, 'header.c1z'),
      CorruptC1zError,
      /header is truncated|truncated or damaged/,
    );
  });

  it('damaged zstd data (flipped bytes fail the checksum or the decoder)', async () => {
    const dir = tempDir();
    const bytes = Buffer.from(readFileSync(await validFile(dir)));
    for (let i = 40; i < bytes.length - 8; i += 97) bytes[i] = bytes[i]! ^ 0xff;
    writeFileSync(join(dir, 'flipped.c1z'), bytes);
    await expectOpenError(join(dir, 'flipped.c1z'), CorruptC1zError, /damaged/);
  });

  it('SQLite garbage inside a valid zstd frame', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'noise.c1z'), Buffer.concat([MAGIC, compress(randomBytes(64 * 1024))]));
    await expectOpenError(join(dir, 'noise.c1z'), CorruptC1zError, /not an SQLite database/);

    // A valid SQLite header over garbage pages: caught at open or at the first query, never a crash.
    const fake = Buffer.concat([Buffer.from('SQLite format 3\0', 'latin1'), randomBytes(64 * 1024)]);
    fake.writeUInt16BE(4096, 16);
    writeFileSync(join(dir, 'pages.c1z'), Buffer.concat([MAGIC, compress(fake)]));
    await expectOpenError(join(dir, 'pages.c1z'), CorruptC1zError, /damaged/);
  });

  it('a database without the c1z tables', async () => {
    const dir = tempDir();
    const path = handMade(
      dir,
      'other',
      (db) => db.exec('create table notes (id integer primary key, body text)'),
      false,
    );
    await expectOpenError(path, CorruptC1zError, /lacks the c1z table\(s\) v1_resource_types, v1_resources/);
  });

  it('a blob that is not the protobuf its table promises', async () => {
    const dir = tempDir();
    const path = handMade(dir, 'badblob', (db) => {
      db.prepare(
        `insert into v1_sync_runs (sync_id, started_at, ended_at, sync_token) values ('s1', '2025-01-01 00:00:00', '2025-01-01 00:00:01', '')`,
      ).run();
      db.prepare(
        `insert into v1_resources (resource_type_id, external_id, data, sync_id, discovered_at) values ('user', 'user:1', ?, 's1', '2025-01-01 00:00:00')`,
      ).run(Buffer.from([0x0a, 0xff, 0xff, 0xff]));
    });
    const reader = await C1zReader.open(path);
    try {
      expect(() => [...reader.resources()]).toThrow(CorruptC1zError);
      expect(() => [...reader.resources()]).toThrow(
        /row 1 of v1_resources is not a valid c1.connector.v2.Resource/,
      );
    } finally {
      reader.close();
    }
  });
});

describe('choosing the sync like baton v0.2.58', () => {
  const run = (db: Database.Database, id: string, started: string, ended: string | null) =>
    db
      .prepare(`insert into v1_sync_runs (sync_id, started_at, ended_at, sync_token) values (?, ?, ?, '')`)
      .run(id, started, ended);
  const resourceType = (db: Database.Database, id: string, sync: string) =>
    db
      .prepare(
        `insert into v1_resource_types (external_id, data, sync_id, discovered_at) values (?, ?, ?, '2025-01-01 00:00:00')`,
      )
      .run(id, Buffer.concat([Buffer.from([0x0a, id.length]), Buffer.from(id)]), sync);

  it('no finished sync: falls back to the latest unfinished one, and says it is unfinished', async () => {
    const dir = tempDir();
    const path = handMade(dir, 'unfinished', (db) => {
      run(db, 'old', '2025-01-01 00:00:00', null);
      run(db, 'new', '2025-02-01 00:00:00', null);
      resourceType(db, 'in-old', 'old');
      resourceType(db, 'in-new', 'new');
    });
    const reader = await C1zReader.open(path);
    try {
      expect(reader.sync).toEqual({ syncId: 'new', startedAt: '2025-02-01 00:00:00', endedAt: null });
      expect(reader.finished).toBe(false);
      expect([...reader.resourceTypes()].map((t) => t.id)).toEqual(['in-new']);
    } finally {
      reader.close();
    }
    await expectOpenError(path, NoSyncError, /no sync in it has finished/, { requireFinished: true });
  });

  it('no sync run at all: rows of every sync, sync = null', async () => {
    const dir = tempDir();
    const path = handMade(dir, 'nosync', (db) => {
      resourceType(db, 'a', 'x');
      resourceType(db, 'b', 'y');
    });
    const reader = await C1zReader.open(path);
    try {
      expect(reader.sync).toBeNull();
      expect([...reader.resourceTypes()].map((t) => t.id)).toEqual(['a', 'b']);
    } finally {
      reader.close();
    }
    await expectOpenError(path, NoSyncError, /no sync in it has finished/, { requireFinished: true });
  });

  it('several finished syncs: the newest ended_at wins; --sync-id picks another; an unknown id fails', async () => {
    const dir = tempDir();
    const path = handMade(dir, 'two', (db) => {
      run(db, 'later-start', '2025-03-01 00:00:00', '2025-03-01 00:00:05');
      run(db, 'newest-end', '2025-02-01 00:00:00', '2025-03-02 00:00:00');
      run(db, 'running', '2025-04-01 00:00:00', null);
      resourceType(db, 'one', 'later-start');
      resourceType(db, 'two', 'newest-end');
    });
    const reader = await C1zReader.open(path);
    try {
      expect(reader.sync?.syncId).toBe('newest-end');
      expect([...reader.resourceTypes()].map((t) => t.id)).toEqual(['two']);
      expect(reader.stats().resourceTypes).toBe(1);
    } finally {
      reader.close();
    }
    const other = await C1zReader.open(path, { syncId: 'later-start' });
    try {
      expect([...other.resourceTypes()].map((t) => t.id)).toEqual(['one']);
    } finally {
      other.close();
    }
    await expectOpenError(path, NoSyncError, /no sync with id nope/, { syncId: 'nope' });
  });
});

describe('decoder limits like baton', () => {
  it('a zstd window over the cap is refused before decoding', async () => {
    const dir = tempDir();
    // Frame header by hand: magic, descriptor 0 (no FCS, not single-segment), window 2^28.
    const frame = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 18 << 3, 0x01, 0x00, 0x00]);
    writeFileSync(join(dir, 'wide.c1z'), Buffer.concat([MAGIC, frame]));
    await expectOpenError(join(dir, 'wide.c1z'), C1zLimitError, /window is 256 MiB, over the 128 MiB limit/);

    const ours = await validFile(dir);
    const err = await expectOpenError(ours, C1zLimitError, /window/, { maxWindowBytes: 1024 * 1024 });
    expect(err.hint).toMatch(/BATON_DECODER_MAX_MEMORY_MB/);
  });

  it('decoding past the decoded-size cap stops with a limit error', async () => {
    const dir = tempDir();
    const ours = await validFile(dir);
    const err = await expectOpenError(ours, C1zLimitError, /decoded-size limit/, {
      maxDecodedBytes: 16 * 1024,
    });
    expect(err.hint).toMatch(/BATON_DECODER_MAX_DECODED_SIZE_MB/);
  });

  it('takes the caps from BATON_DECODER_* (MiB) unless given explicitly', () => {
    const env = { BATON_DECODER_MAX_DECODED_SIZE_MB: '5', BATON_DECODER_MAX_MEMORY_MB: '2' };
    expect(decodeLimits({}, env)).toEqual({ maxDecodedBytes: 5 * 2 ** 20, maxWindowBytes: 2 * 2 ** 20 });
    expect(decodeLimits({}, {})).toEqual({ maxDecodedBytes: 3 * 2 ** 30, maxWindowBytes: 128 * 2 ** 20 });
    expect(decodeLimits({ maxDecodedBytes: 7 }, env).maxDecodedBytes).toBe(7);
  });
});

describe('container variants baton accepts', () => {
  it('reads a v1 file from a newer baton-sdk (extra columns and tables)', async () => {
    const dir = tempDir();
    const path = handMade(dir, 'head', (db) => {
      db.exec(`alter table v1_sync_runs add column sync_type text not null default 'full'`);
      db.exec(`alter table v1_sync_runs add column parent_sync_id text not null default ''`);
      db.exec(`alter table v1_grants add column expansion blob`);
      db.exec(`alter table v1_grants add column needs_expansion integer not null default 0`);
      db.exec(`create table v1_session_store (id integer primary key, sync_id text, key text, value blob)`);
      db.prepare(
        `insert into v1_sync_runs (sync_id, started_at, ended_at, sync_token, sync_type) values ('h', '2025-01-01 00:00:00', '2025-01-01 00:00:01', '', 'full')`,
      ).run();
      db.prepare(
        `insert into v1_grants (resource_type_id, resource_id, entitlement_id, principal_resource_type_id, principal_resource_id, external_id, data, sync_id, discovered_at, needs_expansion)
         values ('group', '1', 'group:1:member', 'user', '2', 'group:1:member:user:2', ?, 'h', '2025-01-01 00:00:00', 1)`,
      ).run(Buffer.from([0x1a, 0x15, ...Buffer.from('group:1:member:user:2')]));
    });
    const reader = await C1zReader.open(path);
    try {
      expect(reader.sync?.syncId).toBe('h');
      expect([...reader.grants({ principalType: 'user', principalId: '2' })].map((g) => g.id)).toEqual([
        'group:1:member:user:2',
      ]);
    } finally {
      reader.close();
    }
  });

  it('reads several frames back to back, with and without content size', async () => {
    const dir = tempDir();
    const path = handMade(dir, 'frames', (db) => {
      db.prepare(
        `insert into v1_sync_runs (sync_id, started_at, ended_at, sync_token) values ('s', '2025-01-01 00:00:00', '2025-01-01 00:00:01', '')`,
      ).run();
    });
    const bytes = readFileSync(path);
    const { decompress } = await import('zstd-napi');
    const db = decompress(bytes.subarray(5));
    const split = Buffer.concat([MAGIC, compress(db.subarray(0, 1000)), compress(db.subarray(1000))]);
    writeFileSync(join(dir, 'split.c1z'), split);
    const reader = await C1zReader.open(join(dir, 'split.c1z'));
    try {
      expect(reader.sync?.syncId).toBe('s');
    } finally {
      reader.close();
    }
  });
});
