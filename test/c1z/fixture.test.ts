import { describe, expect, it } from 'vitest';
import { C1zReader } from '../../src/c1z/reader.js';
import { C1zWriter } from '../../src/c1z/writer.js';
import { findAnnotation } from '../../src/c1z/any.js';
import { ResourceType_Trait, UserTraitSchema, UserTrait_Status_Status } from '../../src/c1z/messages.js';
import { FIXTURE, openRawDb, sampleData, schemaOf, useTempDirs } from './helpers.js';

const tempDir = useTempDirs();

// Expected numbers come from test/fixtures/README.md (the Go connector's run), not from our code.
const README = {
  resources: { user: 990, group: 40, role: 25, license: 13 },
  resourcesTotal: 1068,
  resourceTypes: 4,
  entitlements: 78,
  grants: { group: 2482, license: 2411, role: 1226 },
  grantsTotal: 6119,
};

describe('reading the Go-written fixture', () => {
  it('streams exactly the README counts, by type and in total', async () => {
    const reader = await C1zReader.open(FIXTURE);
    try {
      const types = [...reader.resourceTypes()];
      expect(types.map((t) => t.id).sort()).toEqual(['group', 'license', 'role', 'user']);

      const byType: Record<string, number> = {};
      let total = 0;
      for (const r of reader.resources()) {
        byType[r.id!.resourceType] = (byType[r.id!.resourceType] ?? 0) + 1;
        total++;
      }
      expect(byType).toEqual(README.resources);
      expect(total).toBe(README.resourcesTotal);
      for (const [type, n] of Object.entries(README.resources)) {
        expect([...reader.resources({ resourceType: type })]).toHaveLength(n);
      }

      expect([...reader.entitlements()]).toHaveLength(README.entitlements);

      const grantsByType: Record<string, number> = {};
      let grantTotal = 0;
      for (const g of reader.grants()) {
        const t = g.entitlement!.resource!.id!.resourceType;
        grantsByType[t] = (grantsByType[t] ?? 0) + 1;
        grantTotal++;
      }
      expect(grantsByType).toEqual(README.grants);
      expect(grantTotal).toBe(README.grantsTotal);
      for (const [type, n] of Object.entries(README.grants)) {
        expect([...reader.grants({ resourceType: type })]).toHaveLength(n);
      }

      expect(reader.stats()).toEqual({
        resourceTypes: README.resourceTypes,
        resources: README.resources,
        entitlements: README.entitlements,
        grants: README.grantsTotal,
        grantsByResourceType: README.grants,
      });
    } finally {
      reader.close();
    }
  });

  it('picks the one finished sync and decodes baton-coupa objects', async () => {
    const dir = tempDir();
    const raw = openRawDb(FIXTURE, dir);
    const run = raw.prepare('select sync_id, started_at, ended_at from v1_sync_runs').get() as Record<
      string,
      string
    >;
    raw.close();

    const reader = await C1zReader.open(FIXTURE, { tmpDir: dir });
    try {
      expect(reader.sync).toEqual({ syncId: run.sync_id, startedAt: run.started_at, endedAt: run.ended_at });
      expect(reader.finished).toBe(true);
      const userType = reader.getResourceType('user');
      expect(userType?.traits).toEqual([ResourceType_Trait.USER]);

      const someUser = reader.resources({ resourceType: 'user' }).next().value!;
      const trait = findAnnotation(someUser.annotations, UserTraitSchema);
      expect(trait?.status?.status).toBeOneOf([
        UserTrait_Status_Status.ENABLED,
        UserTrait_Status_Status.DISABLED,
      ]);
      expect(Object.keys(trait?.profile ?? {}).sort()).toEqual(['active', 'email', 'full_name', 'id']);
      expect(reader.getResource('user', someUser.id!.resource)?.displayName).toBe(someUser.displayName);
      expect(reader.getResource('group', someUser.id!.resource)).toBeUndefined();

      const ent = reader.entitlements({ resourceType: 'license', resourceId: 'treasury_user' }).next().value!;
      expect(ent.id).toBe('license:treasury_user:assigned');
      expect(reader.getEntitlement('license:treasury_user:assigned')?.slug).toBe('assigned');
      expect(reader.getEntitlement('license:nope:assigned')).toBeUndefined();
    } finally {
      reader.close();
    }
  });

  it('filters grants by principal and entitlement the way the columns say', async () => {
    const dir = tempDir();
    const raw = openRawDb(FIXTURE, dir);
    const pick = raw
      .prepare('select entitlement_id, principal_resource_id from v1_grants order by id limit 1 offset 100')
      .get() as { entitlement_id: string; principal_resource_id: string };
    const forPrincipal = (
      raw
        .prepare(
          `select count(*) n from v1_grants where principal_resource_type_id = 'user' and principal_resource_id = ?`,
        )
        .get(pick.principal_resource_id) as { n: number }
    ).n;
    const forEnt = (
      raw.prepare('select count(*) n from v1_grants where entitlement_id = ?').get(pick.entitlement_id) as {
        n: number;
      }
    ).n;
    raw.close();

    const reader = await C1zReader.open(FIXTURE, { tmpDir: dir });
    try {
      const byPrincipal = [
        ...reader.grants({ principalType: 'user', principalId: pick.principal_resource_id }),
      ];
      expect(byPrincipal).toHaveLength(forPrincipal);
      expect(byPrincipal.every((g) => g.principal!.id!.resource === pick.principal_resource_id)).toBe(true);
      const byEnt = [...reader.grants({ entitlementId: pick.entitlement_id })];
      expect(byEnt).toHaveLength(forEnt);
      expect(byEnt.every((g) => g.entitlement!.id === pick.entitlement_id)).toBe(true);
    } finally {
      reader.close();
    }
  });

  it('our writer produces the same sqlite_master as Go v0.2.58', async () => {
    const dir = tempDir();
    const out = `${dir}/ours.c1z`;
    const w = await C1zWriter.create(out);
    const s = sampleData(3);
    s.resourceTypes.forEach((x) => w.putResourceType(x));
    s.resources.forEach((x) => w.putResource(x));
    await w.finish();

    const ours = openRawDb(out, dir);
    const go = openRawDb(FIXTURE, dir);
    try {
      const goSchema = schemaOf(go);
      expect(goSchema.length).toBe(17); // 6 tables + 11 indexes, as §2.2 lists
      expect(schemaOf(ours)).toEqual(goSchema);
      // Not just equal after normalisation: byte-identical statements.
      const rawSql = (db: typeof ours) =>
        db.prepare('select name, sql from sqlite_master order by name').all();
      expect(rawSql(ours)).toEqual(rawSql(go));
    } finally {
      ours.close();
      go.close();
    }
  });
});
