import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { compress, decompress } from 'zstd-napi';
import { C1zReader, PAGE_SIZE } from '../../src/c1z/reader.js';
import { C1zWriter } from '../../src/c1z/writer.js';
import { C1zError } from '../../src/c1z/errors.js';
import type { Entitlement } from '../../src/c1z/messages.js';
import {
  memberGrant,
  userGroups,
  groupMembership,
  entitlementFor,
  userResourceType,
  userToResource,
} from '../../src/connector/index.js';

/**
 * Listings must yield exactly the rows of a plain `order by id` query on the chosen sync, across
 * page boundaries, while the rows' index order (entitlement, then principal id text) differs from
 * their id order: that difference is what made keyset paging sort per page.
 */

const P = PAGE_SIZE;
/** Grants per group entitlement: empty, one, and both sides of one and two page boundaries. */
const SIZES = [0, 1, P - 1, P, P + 1, 2 * P + 1];
/** Users + group resources = exactly two pages, so the unfiltered listing ends on an empty page. */
const USERS = 2 * P - SIZES.length;

let dir: string;
let file: string;
let raw: Database.Database;
let groups: Entitlement[];
const SYNC = { current: '' };

/** A seeded shuffle, so each entitlement's grants are spread over the id range. */
function shuffled<T>(items: T[], seed: number): T[] {
  const out = [...items];
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'c1z-paging-'));
  const written = join(dir, 'written.c1z');
  const w = await C1zWriter.create(written, { tmpDir: dir });
  w.putResourceType(userResourceType);
  w.putResourceType(userGroups.resourceType);
  // Principal ids in a shuffled order: the principal index then sorts them unlike their ids.
  const userIds = shuffled(
    Array.from({ length: Math.max(USERS, ...SIZES) }, (_, i) => String(7 + i * 3)),
    1,
  );
  for (const id of userIds.slice(0, USERS)) {
    w.putResource(
      userToResource({ id: Number(id), login: `u${id}`, email: `u${id}@example.com`, active: true }),
    );
  }
  groups = SIZES.map((_, g) => {
    const group = userGroups.toResource({ id: 100 + g, name: `Group ${g}` });
    w.putResource(group);
    const e = entitlementFor(groupMembership, group);
    w.putEntitlement(e);
    return e;
  });
  const pairs = SIZES.flatMap((n, g) => userIds.slice(0, n).map((u) => [g, u] as const));
  for (const [g, u] of shuffled(pairs, 2)) w.putGrant(memberGrant(groups[g]!, u));
  SYNC.current = (await w.finish()).syncId;

  // An older finished sync whose grant rows sit between the current sync's rows: a listing that
  // forgot the sync scope would yield them as duplicates.
  const dbPath = join(dir, 'two-syncs.db');
  writeFileSync(dbPath, decompress(readFileSync(written).subarray(5)));
  const db = new Database(dbPath);
  db.exec(`update v1_grants set id = -id`);
  db.exec(`update v1_grants set id = -id * 2`);
  db.exec(`insert into v1_grants (id, resource_type_id, resource_id, entitlement_id, principal_resource_type_id,
      principal_resource_id, external_id, data, sync_id, discovered_at)
    select id + 1, resource_type_id, resource_id, entitlement_id, principal_resource_type_id,
      principal_resource_id, external_id, data, 'older', discovered_at from v1_grants where id % 3 = 0`);
  db.exec(`insert into v1_sync_runs (sync_id, started_at, ended_at, sync_token)
    values ('older', '2000-01-01 00:00:00', '2000-01-01 00:00:01', '')`);
  db.close();
  file = join(dir, 'two-syncs.c1z');
  writeFileSync(file, Buffer.concat([Buffer.from('C1ZF\0', 'latin1'), compress(readFileSync(dbPath))]));
  raw = new Database(dbPath, { readonly: true });
});

afterAll(() => {
  raw?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The oracle: the same filter as a plain SQL query on the current sync, in id order. */
function expected(table: string, where: Record<string, string>): string[] {
  const cols = Object.keys(where);
  const sql = `select external_id from ${table} where ${[...cols, 'sync_id']
    .map((c) => `${c} = ?`)
    .join(' and ')} order by id`;
  return raw
    .prepare(sql)
    .pluck()
    .all(...Object.values(where), SYNC.current) as string[];
}

const grantIds = (it: Iterable<{ id: string }>) => [...it].map((g) => g.id);
const resourceIds = (it: Iterable<{ id?: { resourceType: string; resource: string } }>) =>
  [...it].map((r) => `${r.id!.resourceType}:${r.id!.resource}`);

async function withReader<T>(run: (r: C1zReader, tmp: string) => T | Promise<T>): Promise<T> {
  const tmp = mkdtempSync(join(dir, 'reader-'));
  const reader = await C1zReader.open(file, { tmpDir: tmp });
  try {
    return await run(reader, tmp);
  } finally {
    reader.close();
  }
}

describe('listings page without changing what they yield', () => {
  it('the fixture is the hard case: older-sync rows in between, index order unlike id order', () => {
    const big = groups[SIZES.length - 1]!.id;
    const byId = expected('v1_grants', { entitlement_id: big });
    const byIndex = raw
      .prepare(
        `select external_id from v1_grants where entitlement_id = ? and sync_id = ?
          order by principal_resource_type_id, principal_resource_id`,
      )
      .pluck()
      .all(big, SYNC.current);
    expect(byId).toHaveLength(2 * P + 1);
    expect(byIndex).not.toEqual(byId);
    const older = raw.prepare(`select count(*) from v1_grants where sync_id = 'older'`).pluck().get();
    expect(older).toBeGreaterThan(P);
  });

  it('grants by entitlement: 0, 1, P-1, P, P+1 and 2P+1 matching rows', async () => {
    await withReader((r) => {
      expect(r.sync?.syncId).toBe(SYNC.current);
      SIZES.forEach((n, g) => {
        const want = expected('v1_grants', { entitlement_id: groups[g]!.id });
        expect(want).toHaveLength(n);
        expect(grantIds(r.grants({ entitlementId: groups[g]!.id }))).toEqual(want);
      });
      expect(grantIds(r.grants({ entitlementId: 'group:nope:member' }))).toEqual([]);
    });
  });

  it('grants unfiltered, by principal, by principal type and by resource', async () => {
    await withReader((r) => {
      const all = grantIds(r.grants());
      expect(all).toHaveLength(SIZES.reduce((a, b) => a + b, 0));
      expect(all).toEqual(expected('v1_grants', {}));
      expect(grantIds(r.grants({ principalType: 'user' }))).toEqual(
        expected('v1_grants', { principal_resource_type_id: 'user' }),
      );
      const someone = r.grants({ entitlementId: groups[1]!.id }).next().value!.principal!.id!.resource;
      const theirs = grantIds(r.grants({ principalType: 'user', principalId: someone }));
      expect(theirs.length).toBeGreaterThanOrEqual(4);
      expect(theirs).toEqual(
        expected('v1_grants', { principal_resource_type_id: 'user', principal_resource_id: someone }),
      );
      const big = groups[SIZES.length - 1]!.resource!.id!;
      expect(grantIds(r.grants({ resourceType: big.resourceType, resourceId: big.resource }))).toEqual(
        expected('v1_grants', { resource_type_id: big.resourceType, resource_id: big.resource }),
      );
      expect(grantIds(r.grants({ resourceType: 'group' }))).toEqual(
        expected('v1_grants', { resource_type_id: 'group' }),
      );
    });
  });

  it('resources and entitlements, unfiltered (exactly two pages) and by type', async () => {
    await withReader((r) => {
      const all = resourceIds(r.resources());
      expect(all).toHaveLength(2 * P);
      expect(all).toEqual(expected('v1_resources', {}));
      expect(resourceIds(r.resources({ resourceType: 'user' }))).toEqual(
        expected('v1_resources', { resource_type_id: 'user' }),
      );
      expect(grantIds(r.entitlements({ resourceType: 'group' }))).toEqual(
        expected('v1_entitlements', { resource_type_id: 'group' }),
      );
      expect([...r.resourceTypes()].map((t) => t.id)).toEqual(expected('v1_resource_types', {}));
    });
  });
});

describe('a suspended listing', () => {
  it('lets other queries run on the connection, across page boundaries', async () => {
    await withReader((r) => {
      const big = groups[SIZES.length - 1]!.id;
      const other = groups[SIZES.length - 2]!.id;
      const otherListing = r.grants({ entitlementId: other });
      const seenOther: string[] = [];
      const seen: string[] = [];
      let principalsChecked = 0;
      for (const g of r.grants({ entitlementId: big })) {
        seen.push(g.id);
        // Two listings advance in turn, and lookups run between rows.
        const next = otherListing.next();
        if (!next.done) seenOther.push(next.value.id);
        const principal = g.principal!.id!.resource;
        const user = r.getResource('user', principal);
        if (user) expect(user.id!.resource).toBe(principal);
        if (seen.length % 97 === 0 || seen.length % P <= 1) {
          const theirs = grantIds(r.grants({ principalType: 'user', principalId: principal }));
          expect(theirs).toContain(g.id);
          principalsChecked++;
        }
        expect(r.getGrant(g.id)?.id).toBe(g.id);
      }
      expect(principalsChecked).toBeGreaterThan(100);
      expect(seen).toEqual(expected('v1_grants', { entitlement_id: big }));
      expect(seenOther).toEqual(expected('v1_grants', { entitlement_id: other }));
    });
  });

  it('ends quietly when the reader is closed mid-page, and its temp copy is gone', async () => {
    for (const listing of [
      (r: C1zReader) => r.grants({ entitlementId: groups[SIZES.length - 1]!.id }),
      (r: C1zReader) => r.grants(),
    ]) {
      const tmp = mkdtempSync(join(dir, 'closing-'));
      const r = await C1zReader.open(file, { tmpDir: tmp });
      const it = listing(r);
      for (let i = 0; i < P + 10; i++) expect(it.next().done).toBe(false);
      r.close();
      expect(it.next()).toEqual({ done: true, value: undefined });
      expect(readdirSync(tmp)).toEqual([]);
      // A listing started after close says why it cannot run.
      expect(() => listing(r).next()).toThrow(C1zError);
      expect(() => listing(r).next()).toThrow(/closed/);
    }
  });
});
