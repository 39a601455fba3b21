import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { clone, create, equals, fromBinary, toBinary } from '@bufbuild/protobuf';
import fc from 'fast-check';
import { C1zReader } from '../../src/c1z/reader.js';
import { C1zWriter } from '../../src/c1z/writer.js';
import { parseFrameHeader } from '../../src/c1z/container.js';
import {
  EntitlementSchema,
  GrantSchema,
  ResourceIdSchema,
  ResourceSchema,
  ResourceTypeSchema,
  type Resource,
} from '../../src/c1z/messages.js';
import { openRawDb, sampleData, useTempDirs } from './helpers.js';

const tempDir = useTempDirs();

async function writeSample(out: string, s = sampleData()) {
  const w = await C1zWriter.create(out, { batchSize: 3 });
  s.resourceTypes.forEach((x) => w.putResourceType(x));
  s.resources.forEach((x) => w.putResource(x));
  s.entitlements.forEach((x) => w.putEntitlement(x));
  s.grants.forEach((x) => w.putGrant(x));
  const counts = w.counts();
  const result = await w.finish();
  return { s, counts, result };
}

describe('C1zWriter round trip', () => {
  it('every message read back equals what was written', async () => {
    const dir = tempDir();
    const { s, counts, result } = await writeSample(`${dir}/out.c1z`);
    expect(counts).toEqual({
      resourceTypes: s.resourceTypes.length,
      resources: s.resources.length,
      entitlements: s.entitlements.length,
      grants: s.grants.length,
    });
    expect(result.bytes).toBe(readFileSync(`${dir}/out.c1z`).length);

    const reader = await C1zReader.open(result.path);
    try {
      expect(reader.sync?.syncId).toBe(result.syncId);
      const pairs = [
        [[...reader.resourceTypes()], s.resourceTypes, ResourceTypeSchema],
        [[...reader.resources()], s.resources, ResourceSchema],
        [[...reader.entitlements()], s.entitlements, EntitlementSchema],
        [[...reader.grants()], s.grants, GrantSchema],
      ] as const;
      for (const [got, want, schema] of pairs) {
        expect(got).toHaveLength(want.length);
        // Rows come back in insertion order (by rowid), as baton pages them.
        got.forEach((m, i) => expect(equals(schema as never, m as never, want[i] as never)).toBe(true));
      }
    } finally {
      reader.close();
    }
  });

  it('writes text columns that agree with the blobs, one finished KSUID sync, Go timestamps', async () => {
    const dir = tempDir();
    const { result } = await writeSample(`${dir}/out.c1z`);
    const db = openRawDb(result.path, dir);
    try {
      const runs = db.prepare('select * from v1_sync_runs').all() as Record<string, string | null>[];
      expect(runs).toHaveLength(1);
      const run = runs[0]!;
      expect(run.sync_id).toBe(result.syncId);
      expect(run.sync_id).toMatch(/^[0-9A-Za-z]{27}$/);
      const goLayout = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{0,8}[1-9])?$/;
      expect(run.started_at).toMatch(goLayout);
      expect(run.ended_at).toMatch(goLayout);
      expect(run.ended_at! >= run.started_at!).toBe(true);

      for (const r of db.prepare('select * from v1_resources').all() as Record<string, unknown>[]) {
        const m = fromBinary(ResourceSchema, r.data as Uint8Array);
        expect(r.resource_type_id).toBe(m.id!.resourceType);
        expect(r.external_id).toBe(`${m.id!.resourceType}:${m.id!.resource}`);
        expect(r.parent_resource_type_id).toBe(m.parentResourceId?.resourceType ?? null);
        expect(r.parent_resource_id).toBe(m.parentResourceId?.resource ?? null);
        expect(r.sync_id).toBe(result.syncId);
        expect(r.discovered_at).toMatch(goLayout);
      }
      for (const r of db.prepare('select * from v1_entitlements').all() as Record<string, unknown>[]) {
        const m = fromBinary(EntitlementSchema, r.data as Uint8Array);
        expect([r.resource_type_id, r.resource_id, r.external_id]).toEqual([
          m.resource!.id!.resourceType,
          m.resource!.id!.resource,
          m.id,
        ]);
      }
      for (const r of db.prepare('select * from v1_grants').all() as Record<string, unknown>[]) {
        const m = fromBinary(GrantSchema, r.data as Uint8Array);
        expect([
          r.resource_type_id,
          r.resource_id,
          r.entitlement_id,
          r.principal_resource_type_id,
          r.principal_resource_id,
          r.external_id,
        ]).toEqual([
          m.entitlement!.resource!.id!.resourceType,
          m.entitlement!.resource!.id!.resource,
          m.entitlement!.id,
          m.principal!.id!.resourceType,
          m.principal!.id!.resource,
          m.id,
        ]);
      }
      // The database inside is complete on its own: rollback-journal mode, nothing left in a WAL.
      const header = readFileSync(db.name);
      expect([header[18], header[19]]).toEqual([1, 1]);
    } finally {
      db.close();
    }
  });

  it('writes a container baton accepts: C1ZF\\0 then zstd with a small window and no dictionary', async () => {
    const dir = tempDir();
    const { result } = await writeSample(`${dir}/out.c1z`);
    const bytes = readFileSync(result.path);
    expect(bytes.subarray(0, 5).toString('latin1')).toBe('C1ZF\0');
    const header = parseFrameHeader(bytes.subarray(5));
    if (typeof header === 'string') throw new Error(`no zstd frame header: ${header}`);
    expect(header.windowBytes).toBeLessThanOrEqual(2 ** 27);
    expect(header.dictionaryId).toBe(0);
    // Only the target is left in the output directory: no temp files.
    expect(readdirSync(dir).filter((f) => !f.startsWith('raw-'))).toEqual(['out.c1z']);
  });

  it('deduplicates on (external_id, sync): the last write wins and columns follow it', async () => {
    const dir = tempDir();
    const s = sampleData(2);
    const w = await C1zWriter.create(`${dir}/dup.c1z`, { batchSize: 2 });
    const first = s.resources[0]!;
    const moved: Resource = clone(ResourceSchema, first);
    moved.displayName = 'renamed';
    moved.parentResourceId = create(ResourceIdSchema, { resourceType: 'group', resource: '10' });
    w.putResource(first);
    w.putResource(s.resources[1]!);
    w.putResource(moved);
    w.putResourceType(s.resourceTypes[0]!);
    w.putResourceType(s.resourceTypes[0]!);
    w.putEntitlement(s.entitlements[0]!);
    w.putEntitlement(s.entitlements[0]!);
    w.putGrant(s.grants[0]!);
    w.putGrant(s.grants[0]!);
    expect(w.counts()).toEqual({ resourceTypes: 1, resources: 2, entitlements: 1, grants: 1 });
    const { path } = await w.finish();

    const reader = await C1zReader.open(path);
    try {
      const got = reader.getResource(first.id!.resourceType, first.id!.resource)!;
      expect(equals(ResourceSchema, got, moved)).toBe(true);
      expect([...reader.resources()]).toHaveLength(2);
    } finally {
      reader.close();
    }
    const db = openRawDb(path, dir);
    const row = db
      .prepare(
        'select parent_resource_type_id p, parent_resource_id q from v1_resources where external_id = ?',
      )
      .get(`user:${first.id!.resource}`);
    db.close();
    expect(row).toEqual({ p: 'group', q: '10' });
  });

  it('hand-encoded grants are byte-identical to the generic encoder, even with long multi-byte ids', async () => {
    const dir = tempDir();
    const s = sampleData(1);
    const stub = s.grants[0]!.entitlement!;
    const long = 'ü'.repeat(100) + ':' + 'x'.repeat(20000);
    const grants = [
      create(GrantSchema, {
        id: `${stub.id}:user:1`,
        entitlement: stub,
        principal: { id: { resourceType: 'user', resource: '1' } },
      }),
      create(GrantSchema, {
        id: long,
        entitlement: stub,
        principal: { id: { resourceType: 'user', resource: long } },
      }),
      create(GrantSchema, {
        id: 'g',
        entitlement: stub,
        principal: { id: { resourceType: 'user', resource: 'a'.repeat(125) } },
      }),
    ];
    const w = await C1zWriter.create(`${dir}/bytes.c1z`);
    grants.forEach((g) => w.putGrant(g));
    const { path } = await w.finish();
    const db = openRawDb(path, dir);
    const blobs = (db.prepare('select data from v1_grants order by id').all() as { data: Buffer }[]).map(
      (r) => r.data,
    );
    db.close();
    expect(blobs).toHaveLength(3);
    blobs.forEach((b, i) =>
      expect(Buffer.from(b).equals(Buffer.from(toBinary(GrantSchema, grants[i]!)))).toBe(true),
    );
  });

  it('a repeated grant id keeps the last version (and only one row)', async () => {
    const dir = tempDir();
    const s = sampleData(2);
    const first = s.grants[0]!;
    const second = clone(GrantSchema, first);
    second.principal!.displayName = 'now with a name';
    second.annotations = s.grants.at(-1)!.annotations;
    const w = await C1zWriter.create(`${dir}/dupgrant.c1z`, { batchSize: 1 });
    w.putGrant(first);
    w.putGrant(s.grants[1]!);
    w.putGrant(second);
    expect(w.counts().grants).toBe(2);
    const { path } = await w.finish();
    const reader = await C1zReader.open(path);
    try {
      const got = [...reader.grants()];
      expect(got).toHaveLength(2);
      expect(equals(GrantSchema, reader.getGrant(first.id)!, second)).toBe(true);
    } finally {
      reader.close();
    }
  });

  it('round-trips arbitrary ids and names (colons, unicode, long strings)', async () => {
    const dir = tempDir();
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.string({ minLength: 1, maxLength: 40, unit: 'grapheme' }), {
          minLength: 1,
          maxLength: 8,
        }),
        fc.string({ maxLength: 200, unit: 'grapheme' }),
        async (ids, name) => {
          const out = `${dir}/prop.c1z`;
          const w = await C1zWriter.create(out, { batchSize: 2 });
          const written = ids.map((id) =>
            create(ResourceSchema, { id: { resourceType: 'user', resource: id }, displayName: name }),
          );
          written.forEach((r) => w.putResource(r));
          await w.finish();
          const reader = await C1zReader.open(out);
          try {
            for (const r of written) {
              const got = reader.getResource('user', r.id!.resource);
              expect(got && equals(ResourceSchema, got, r)).toBe(true);
            }
          } finally {
            reader.close();
          }
        },
      ),
      { numRuns: 15 },
    );
  });

  it('rejects a grant it cannot index, and refuses use after finish', async () => {
    const dir = tempDir();
    const w = await C1zWriter.create(`${dir}/x.c1z`);
    expect(() => w.putGrant(create(GrantSchema, { id: 'g' }))).toThrow(/has no entitlement/);
    expect(() => w.putResource(create(ResourceSchema, { displayName: 'no id' }))).toThrow(
      /needs both a type and an id/,
    );
    await w.finish();
    expect(() =>
      w.putResource(create(ResourceSchema, { id: { resourceType: 'user', resource: '1' } })),
    ).toThrow(/already done/);
    expect(existsSync(`${dir}/x.c1z`)).toBe(true);
  });
});
