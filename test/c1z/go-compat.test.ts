import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { equals, fromBinary } from '@bufbuild/protobuf';
import { C1zReader } from '../../src/c1z/reader.js';
import { C1zWriter } from '../../src/c1z/writer.js';
import {
  EntitlementSchema,
  GrantSchema,
  ResourceSchema,
  ResourceTypeSchema,
} from '../../src/c1z/messages.js';
import { FIXTURE, openRawDb, useTempDirs } from './helpers.js';

const tempDir = useTempDirs();

const COLUMNS = {
  v1_resource_types: ['external_id'],
  v1_resources: ['resource_type_id', 'external_id', 'parent_resource_type_id', 'parent_resource_id'],
  v1_entitlements: ['resource_type_id', 'resource_id', 'external_id'],
  v1_grants: [
    'resource_type_id',
    'resource_id',
    'entitlement_id',
    'principal_resource_type_id',
    'principal_resource_id',
    'external_id',
  ],
} as const;
const SCHEMAS = {
  v1_resource_types: ResourceTypeSchema,
  v1_resources: ResourceSchema,
  v1_entitlements: EntitlementSchema,
  v1_grants: GrantSchema,
} as const;

describe('files we write look like Go v0.2.58 files', () => {
  it('rewriting the Go fixture gives the same index columns and equal messages, row for row', async () => {
    const dir = tempDir();
    const out = join(dir, 'rewritten.c1z');
    const reader = await C1zReader.open(FIXTURE);
    const w = await C1zWriter.create(out);
    try {
      for (const x of reader.resourceTypes()) w.putResourceType(x);
      for (const x of reader.resources()) w.putResource(x);
      for (const x of reader.entitlements()) w.putEntitlement(x);
      for (const x of reader.grants()) w.putGrant(x);
      await w.finish();
    } finally {
      reader.close();
      await w.abort();
    }

    const go = openRawDb(FIXTURE, dir);
    const ours = openRawDb(out, dir);
    try {
      for (const [table, cols] of Object.entries(COLUMNS) as [keyof typeof COLUMNS, readonly string[]][]) {
        const select = `select ${cols.join(', ')}, data from ${table} order by id`;
        const goRows = go.prepare(select).all() as Record<string, unknown>[];
        const ourRows = ours.prepare(select).all() as Record<string, unknown>[];
        expect(ourRows.length, table).toBe(goRows.length);
        goRows.forEach((g, i) => {
          const o = ourRows[i]!;
          for (const c of cols) expect(o[c], `${table} row ${i + 1} ${c}`).toBe(g[c]);
          const schema = SCHEMAS[table];
          const same = equals(
            schema as never,
            fromBinary(schema, o.data as Uint8Array) as never,
            fromBinary(schema, g.data as Uint8Array) as never,
          );
          expect(same, `${table} row ${i + 1} data`).toBe(true);
        });
      }
      // Resource types have no map or Any inside, so even the bytes match Go's (format doc §4.1).
      const rtBytes = (db: typeof go) =>
        (db.prepare('select data from v1_resource_types order by id').all() as { data: Buffer }[]).map((r) =>
          Buffer.from(r.data).toString('hex'),
        );
      expect(rtBytes(ours)).toEqual(rtBytes(go));
      expect(rtBytes(go)).toContain('0a04757365721204557365721a0101');
    } finally {
      go.close();
      ours.close();
    }
  });
});
