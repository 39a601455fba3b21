import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { DescMessage } from '@bufbuild/protobuf';
import {
  EntitlementSchema,
  GrantSchema,
  ResourceSchema,
  ResourceTypeSchema,
} from '../../src/c1z/messages.js';
import { C1zWriter } from '../../src/c1z/writer.js';
import { cleanEnv, cliBin, ROOT } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp-dir.js';
import { FIXTURE, openRawDb, sampleData } from '../c1z/helpers.js';

/**
 * Golden layout of baton's `-o json` (baton's proto/baton/v1/outputs.proto, rendered by protojson):
 * the list key of each command and the fields of each wrapper, as baton spells them. The fields of
 * the c1.connector.v2 messages inside are their protojson names, taken from the schemas.
 */
const WRAPPERS = {
  'resource-types': { list: 'resourceTypes', fields: ['resourceType'], required: ['resourceType'] },
  resources: {
    list: 'resources',
    fields: ['resource', 'resourceType', 'parent'],
    required: ['resource', 'resourceType'],
  },
  entitlements: {
    list: 'entitlements',
    fields: ['entitlement', 'resource', 'resourceType'],
    required: ['entitlement', 'resource', 'resourceType'],
  },
  grants: {
    list: 'grants',
    fields: ['grant', 'entitlement', 'resource', 'resourceType', 'principal'],
    required: ['grant', 'entitlement', 'resource', 'resourceType'],
  },
  principals: { list: 'resources', fields: ['resource', 'resourceType', 'parent'], required: ['resource'] },
} as const;

const INNER: Record<string, DescMessage> = {
  resourceType: ResourceTypeSchema,
  resource: ResourceSchema,
  parent: ResourceSchema,
  principal: ResourceSchema,
  entitlement: EntitlementSchema,
  grant: GrantSchema,
};

const jsonNames = (schema: DescMessage) => schema.fields.map((f) => f.jsonName);

function run(args: string[]): string {
  const r = spawnSync(process.execPath, [cliBin(), ...args], {
    cwd: ROOT,
    env: cleanEnv(),
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout;
}

/** jq must be there: the issue asks for baton's README examples to run in the test, not be skipped. */
function jq(filter: string, input: string, raw = false): string[] {
  const out = execFileSync('jq', [...(raw ? ['-r'] : []), filter], {
    input,
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  });
  return out.split('\n').filter((l) => l !== '');
}

function checkLayout(
  command: keyof typeof WRAPPERS,
  doc: Record<string, unknown>,
): Record<string, unknown>[] {
  const w = WRAPPERS[command];
  expect(Object.keys(doc)).toEqual([w.list]);
  const rows = doc[w.list] as Record<string, unknown>[];
  expect(Array.isArray(rows)).toBe(true);
  for (const row of rows) {
    for (const k of Object.keys(row)) expect(w.fields as readonly string[], `${command}: ${k}`).toContain(k);
    for (const k of w.required) expect(row, `${command} needs ${k}`).toHaveProperty(k);
    for (const [k, v] of Object.entries(row)) {
      const allowed = jsonNames(INNER[k]!);
      for (const field of Object.keys(v as object))
        expect(allowed, `${command}.${k}.${field}`).toContain(field);
    }
  }
  return rows;
}

describe("-o json has baton's layout, on baton-coupa's own Go file", () => {
  const facts = (() => {
    const dir = tempDir();
    const db = openRawDb(FIXTURE, dir.dir);
    const n = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
    const f = {
      resourceTypes: n('select count(*) n from v1_resource_types'),
      resources: n('select count(*) n from v1_resources'),
      entitlements: n('select count(*) n from v1_entitlements'),
      grants: n('select count(*) n from v1_grants'),
      role22: n(
        `select count(distinct principal_resource_id) n from v1_grants where entitlement_id = 'role:22:member'`,
      ),
      principals: n(
        'select count(*) n from (select distinct principal_resource_type_id, principal_resource_id from v1_grants)',
      ),
    };
    db.close();
    dir.cleanup();
    return f;
  })();

  it('resource-types: ResourceTypeListOutput', () => {
    const out = run(['resource-types', '-f', FIXTURE, '-o', 'json']);
    expect(checkLayout('resource-types', JSON.parse(out))).toHaveLength(facts.resourceTypes);
    expect(jq('.resourceTypes[].resourceType.id', out, true)).toEqual(['user', 'group', 'role', 'license']);
  });

  it("resources: ResourceListOutput, and baton's README example prints every display name", () => {
    const out = run(['resources', '-f', FIXTURE, '-o', 'json']);
    expect(checkLayout('resources', JSON.parse(out))).toHaveLength(facts.resources);
    // baton's README: baton resources -o json | jq '.resources[].resource.displayName'
    const names = jq('.resources[].resource.displayName', out);
    expect(names).toHaveLength(facts.resources);
    expect(names.filter((n) => n === 'null')).toEqual([]);
    expect(names.every((n) => n.startsWith('"'))).toBe(true);
    // the -t short flag, baton's spelling
    const roles = run(['resources', '-f', FIXTURE, '-o', 'json', '-t', 'role']);
    expect(new Set(jq('.resources[].resourceType.id', roles, true))).toEqual(new Set(['role']));
  });

  it('entitlements: EntitlementListOutput; -t/-r narrow to one resource', () => {
    const out = run(['entitlements', '-f', FIXTURE, '-o', 'json']);
    expect(checkLayout('entitlements', JSON.parse(out))).toHaveLength(facts.entitlements);
    expect(jq('.entitlements[].entitlement.displayName', out).filter((n) => n === 'null')).toEqual([]);
    const one = run(['entitlements', '-f', FIXTURE, '-o', 'json', '-t', 'role', '-r', '22']);
    expect(jq('.entitlements[].entitlement.id', one, true)).toEqual(['role:22:member']);
    expect(jq('.entitlements[].resource.displayName', one, true)).toHaveLength(1);
  });

  it('grants: GrantListOutput with the entitlement, resource, type and principal of each', () => {
    const out = run(['grants', '-f', FIXTURE, '-o', 'json']);
    const rows = checkLayout('grants', JSON.parse(out));
    expect(rows).toHaveLength(facts.grants);
    // The fixture's dangling grants (API users baton-coupa skipped) have no principal to show;
    // every other grant carries it.
    const withPrincipal = jq('[.grants[] | select(.principal != null)] | length', out)[0];
    expect(Number(withPrincipal)).toBeGreaterThan(facts.grants * 0.9);
    expect(
      jq('.grants[] | select(.principal != null) | .principal.displayName', out).filter((n) => n === 'null'),
    ).toEqual([]);
    const holders = run(['grants', '-f', FIXTURE, '-o', 'json', '-e', 'role:22:member']);
    expect(jq('.grants[].entitlement.id', holders, true).every((id) => id === 'role:22:member')).toBe(true);
    expect(jq('.grants | length', holders)[0]).toBe(String(facts.role22));
  });

  it("access -t user -r <id>: baton's ResourceAccessListOutput, grouped by resource", () => {
    const db = openRawDb(FIXTURE, tempDir().dir);
    const user = db
      .prepare(
        `select principal_resource_id pid, count(*) n from v1_grants g
         join v1_resources r on r.external_id = 'user:' || g.principal_resource_id
         group by pid order by n desc, pid limit 1`,
      )
      .get() as { pid: string; n: number };
    db.close();
    const out = run(['access', '-f', FIXTURE, '-t', 'user', '-r', user.pid, '-o', 'json']);
    const doc = JSON.parse(out) as { principal: Record<string, unknown>; access: Record<string, unknown>[] };
    expect(Object.keys(doc)).toEqual(['principal', 'access']);
    for (const k of Object.keys(doc.principal)) expect(jsonNames(ResourceSchema)).toContain(k);
    for (const a of doc.access) {
      for (const k of Object.keys(a)) expect(['resource', 'resourceType', 'entitlements']).toContain(k);
      for (const e of a.entitlements as Record<string, unknown>[])
        for (const k of Object.keys(e)) expect(jsonNames(EntitlementSchema)).toContain(k);
    }
    expect(jq('[.access[].entitlements[]] | length', out)[0]).toBe(String(user.n));
    expect(jq('.principal.id.resource', out, true)).toEqual([user.pid]);
  });

  it('principals: ResourceListOutput of the distinct principals', () => {
    const out = run(['principals', '-f', FIXTURE, '-o', 'json']);
    expect(checkLayout('principals', JSON.parse(out))).toHaveLength(facts.principals);
    const holders = run(['principals', '-f', FIXTURE, '-o', 'json', '-e', 'role:22:member']);
    expect(jq('.resources | length', holders)[0]).toBe(String(facts.role22));
    expect(new Set(jq('.resources[].resource.id.resourceType', holders, true))).toEqual(new Set(['user']));
  });
});

describe("syncs, diff and export csv keep baton's shapes", () => {
  const tmp = tempDir();
  const file = join(tmp.dir, 'two.c1z');
  beforeAll(async () => {
    copyFileSync(FIXTURE, file);
    const w = await C1zWriter.create(file, { keepSyncs: 2 });
    const s = sampleData(3);
    for (const x of s.resourceTypes) w.putResourceType(x);
    for (const x of s.resources) w.putResource(x);
    for (const x of s.entitlements) w.putEntitlement(x);
    for (const x of s.grants) w.putGrant(x);
    await w.finish();
  });

  it('syncs: SyncListOutput with RFC 3339 timestamps', () => {
    const out = run(['syncs', '-f', file, '-o', 'json']);
    const doc = JSON.parse(out) as { syncs: Record<string, unknown>[] };
    expect(Object.keys(doc)).toEqual(['syncs']);
    expect(doc.syncs).toHaveLength(2);
    for (const s of doc.syncs) {
      for (const k of Object.keys(s))
        expect(['id', 'startedAt', 'endedAt', 'syncToken', 'syncType', 'parentSyncId']).toContain(k);
      expect(s.startedAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3}|\.\d{6}|\.\d{9})?Z$/);
      expect(s.endedAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3}|\.\d{6}|\.\d{9})?Z$/);
    }
    expect(jq('.syncs[].id', out, true)).toHaveLength(2);
  });

  it('diff: C1ZDiffOutput buckets of protojson messages', () => {
    const out = run(['diff', '-f', file, '-o', 'json']);
    const doc = JSON.parse(out) as Record<string, Record<string, unknown[]>>;
    expect(Object.keys(doc)).toEqual(['resources', 'entitlements', 'grants']);
    const schemaOf = { resources: ResourceSchema, entitlements: EntitlementSchema, grants: GrantSchema };
    for (const [kind, buckets] of Object.entries(doc)) {
      for (const [bucket, items] of Object.entries(buckets)) {
        expect(['created', 'deleted', 'modified']).toContain(bucket);
        for (const item of items)
          for (const k of Object.keys(item as object))
            expect(jsonNames(schemaOf[kind as keyof typeof schemaOf])).toContain(k);
      }
    }
    // Go sync → three sample users: every Go grant was deleted.
    const db = openRawDb(FIXTURE, tmp.dir);
    const goGrants = (db.prepare('select count(*) n from v1_grants').get() as { n: number }).n;
    db.close();
    expect(jq('.grants.deleted | length', out)[0]).toBe(String(goGrants));
  });

  it("export csv: baton's twelve columns first, then ours; Identity, Entitlement and Grant rows", () => {
    // A device is never replaced by the CSV (as root that would break /dev/null for everyone).
    const refused = spawnSync(
      process.execPath,
      [cliBin(), 'export', 'csv', '-f', FIXTURE, '--out', '/dev/null'],
      {
        cwd: ROOT,
        env: cleanEnv(),
        encoding: 'utf8',
      },
    );
    expect(refused.status).toBe(2);
    expect(statSync('/dev/null').isCharacterDevice()).toBe(true);
    const csv = run(['export', 'csv', '-f', FIXTURE, '--out', '-']).trim().split('\n');
    expect(csv[0]).toBe(
      'Type,Last Name,First Name,User ID,User Status,Email Address,Entitlement Display Name,Entitlement,' +
        'Resource Type,Resource Name,Entitlement Description,Entitlement Slug,' +
        'Principal,Display Name,Login,Account Type,Grant,Missing',
    );
    const types = new Map<string, number>();
    for (const l of csv.slice(1)) types.set(l.split(',')[0]!, (types.get(l.split(',')[0]!) ?? 0) + 1);
    const db = openRawDb(FIXTURE, tmp.dir);
    const n = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
    expect(types.get('Identity')).toBe(
      n(`select count(*) n from v1_resources where resource_type_id = 'user'`),
    );
    expect(types.get('Entitlement')).toBe(n('select count(*) n from v1_entitlements'));
    // Grants to users, the dangling ones (no user resource: API users baton-coupa left out) included.
    expect(types.get('Grant')).toBe(
      n(`select count(*) n from v1_grants where principal_resource_type_id = 'user'`),
    );
    db.close();
  });
});
