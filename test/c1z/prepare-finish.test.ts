import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { clone, equals } from '@bufbuild/protobuf';
import { C1zReader } from '../../src/c1z/reader.js';
import { C1zWriter } from '../../src/c1z/writer.js';
import { C1zWriteError } from '../../src/c1z/errors.js';
import { GrantSchema, ResourceSchema } from '../../src/c1z/messages.js';
import { openRawDb, sampleData, schemaOf, useTempDirs, type Sample } from './helpers.js';

const tempDir = useTempDirs();

/**
 * Writes `s` and finishes. With `prepareAfter`, in the sync's order: every row but the grants from
 * that index on, prepareFinish(), the last grants, finish().
 */
async function write(out: string, s: Sample, opts: { keepSyncs?: number; prepareAfter?: number } = {}) {
  const w = await C1zWriter.create(out, { batchSize: 4, keepSyncs: opts.keepSyncs ?? 1 });
  const split = opts.prepareAfter ?? s.grants.length;
  s.resourceTypes.forEach((x) => w.putResourceType(x));
  s.resources.forEach((x) => w.putResource(x));
  s.entitlements.forEach((x) => w.putEntitlement(x));
  s.grants.slice(0, split).forEach((x) => w.putGrant(x));
  if (opts.prepareAfter !== undefined) await w.prepareFinish();
  s.grants.slice(split).forEach((x) => w.putGrant(x));
  return w.finish();
}

function contents(path: string) {
  return C1zReader.open(path).then((reader) => {
    try {
      return { resources: [...reader.resources()], grants: [...reader.grants()] };
    } finally {
      reader.close();
    }
  });
}

describe('C1zWriter.prepareFinish: the indexes built before the last rows', () => {
  it('gives the same rows and the same schema as a file finished in one go', async () => {
    const dir = tempDir();
    const s = sampleData(6);
    const split = Math.floor(s.grants.length / 2);
    const early = await write(`${dir}/early.c1z`, s, { prepareAfter: split });
    const plain = await write(`${dir}/plain.c1z`, s);

    const [a, b] = await Promise.all([contents(early.path), contents(plain.path)]);
    expect(a.grants).toHaveLength(s.grants.length);
    a.grants.forEach((g, i) => expect(equals(GrantSchema, g, b.grants[i]!)).toBe(true));
    a.resources.forEach((r, i) => expect(equals(ResourceSchema, r, b.resources[i]!)).toBe(true));

    const schema = (p: string) => {
      const db = openRawDb(p, dir);
      try {
        return schemaOf(db);
      } finally {
        db.close();
      }
    };
    expect(schema(early.path)).toEqual(schema(plain.path));
  });

  // The repeat lands after the key exists ('or replace' keeps it) or before (the build's dedupe does).
  for (const repeat of ['after', 'before'] as const) {
    it(`a grant repeated ${repeat} it keeps the last version, in one row`, async () => {
      const dir = tempDir();
      const s = sampleData(2);
      const first = s.grants[0]!;
      const again = clone(GrantSchema, first);
      again.principal!.displayName = `written again ${repeat} the indexes`;
      const w = await C1zWriter.create(`${dir}/dup-${repeat}.c1z`, { batchSize: 1 });
      w.putGrant(first);
      if (repeat === 'before') w.putGrant(again);
      await w.prepareFinish();
      if (repeat === 'after') w.putGrant(again);
      w.putGrant(s.grants[1]!);
      const { path } = await w.finish();
      const reader = await C1zReader.open(path);
      try {
        expect([...reader.grants()]).toHaveLength(2);
        expect(equals(GrantSchema, reader.getGrant(first.id)!, again)).toBe(true);
      } finally {
        reader.close();
      }
    });
  }

  it('keeps the earlier sync of the target when history is kept', async () => {
    const dir = tempDir();
    const out = `${dir}/history.c1z`;
    const s = sampleData(3);
    const firstRun = await write(out, s, { keepSyncs: 2 });
    const second = await write(out, s, { keepSyncs: 2, prepareAfter: 2 });
    expect(second.history.kept.map((r) => r.syncId)).toEqual([firstRun.syncId]);
    const db = openRawDb(out, dir);
    try {
      const runs = db.prepare('select sync_id from v1_sync_runs').all() as { sync_id: string }[];
      expect(runs.map((r) => r.sync_id).sort()).toEqual([firstRun.syncId, second.syncId].sort());
      const grants = (id: string) =>
        (db.prepare('select count(*) n from v1_grants where sync_id = ?').get(id) as { n: number }).n;
      expect(grants(firstRun.syncId)).toBe(s.grants.length);
      expect(grants(second.syncId)).toBe(s.grants.length);
    } finally {
      db.close();
    }
  });

  it('leaves a failure to finish(): an earlier file replaced during the sync by one that is not a c1z fails the finish, and stays as it was', async () => {
    const dir = tempDir();
    const out = `${dir}/not-a-c1z.c1z`;
    const s = sampleData(2);
    await write(out, s);
    // create() checked the good file; another process then puts something else there.
    const w = await C1zWriter.create(out, { keepSyncs: 2 });
    writeFileSync(out, 'previous output, not a c1z');
    s.resources.forEach((x) => w.putResource(x));
    await expect(w.prepareFinish()).resolves.toBeUndefined();
    w.putGrant(s.grants[0]!);
    await expect(w.finish()).rejects.toThrow(/Cannot add this sync to .*not a readable c1z/);
    expect(readFileSync(out, 'utf8')).toBe('previous output, not a c1z');
  });

  it('refuses a row written while it runs, and is done once however often it is called', async () => {
    const dir = tempDir();
    const s = sampleData(2);
    const w = await C1zWriter.create(`${dir}/busy.c1z`);
    w.putResource(s.resources[0]!);
    const running = w.prepareFinish();
    expect(() => w.putGrant(s.grants[0]!)).toThrow(C1zWriteError);
    expect(() => w.putGrant(s.grants[0]!)).toThrow(/while prepareFinish\(\) was running; await it first/);
    await running;
    await w.prepareFinish();
    w.putGrant(s.grants[0]!);
    const { path } = await w.finish();
    expect((await contents(path)).grants).toHaveLength(1);
  });
});
