import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { create } from '@bufbuild/protobuf';
import { TimestampSchema } from '@bufbuild/protobuf/wkt';
import { decompress } from 'zstd-napi';
import Database from 'better-sqlite3';
import { afterEach } from 'vitest';
import { emptyAnnotation, packAnnotation } from '../../src/c1z/any.js';
import { C1zWriter } from '../../src/c1z/writer.js';
import {
  Entitlement_PurposeValue,
  EntitlementSchema,
  ETagSchema,
  GrantExpandableSchema,
  GrantSchema,
  GroupTraitSchema,
  Resource_CreationSource,
  ResourceSchema,
  ResourceType_Trait,
  ResourceTypeSchema,
  RoleTraitSchema,
  UserTrait_AccountType,
  UserTrait_Status_Status,
  UserTraitSchema,
  type Entitlement,
  type Grant,
  type Resource,
  type ResourceType,
} from '../../src/c1z/messages.js';

const here = dirname(fileURLToPath(import.meta.url));
/** Written by baton-coupa's own Go writer; see test/fixtures/README.md. */
export const FIXTURE = resolve(here, '../fixtures/peer-sync-1000.c1z');

/** A fresh temp dir per test, removed afterwards. */
export function useTempDirs(): () => string {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  return () => {
    const d = mkdtempSync(join(tmpdir(), 'c1z-test-'));
    dirs.push(d);
    return d;
  };
}

/** Decodes a c1z with zstd-napi directly (not through our reader) and opens the database. */
export function openRawDb(c1zPath: string, dir: string): Database.Database {
  const bytes = readFileSync(c1zPath);
  const dbPath = join(dir, `raw-${Math.random().toString(36).slice(2)}.db`);
  writeFileSync(dbPath, decompress(bytes.subarray(5)));
  return new Database(dbPath, { readonly: true });
}

export interface Sample {
  resourceTypes: ResourceType[];
  resources: Resource[];
  entitlements: Entitlement[];
  grants: Grant[];
}

/**
 * A tenant shaped like baton-coupa's output (users with UserTrait and profile, groups and roles
 * with empty traits, licenses without), plus the optional fields a Coupa sync never sets, so a
 * round trip exercises every field kind.
 */
export function sampleData(users = 5): Sample {
  const userRt = create(ResourceTypeSchema, {
    id: 'user',
    displayName: 'User',
    traits: [ResourceType_Trait.USER],
  });
  const groupRt = create(ResourceTypeSchema, {
    id: 'group',
    displayName: 'group',
    traits: [ResourceType_Trait.GROUP],
  });
  const roleRt = create(ResourceTypeSchema, {
    id: 'role',
    displayName: 'role',
    traits: [ResourceType_Trait.ROLE],
  });
  const licenseRt = create(ResourceTypeSchema, {
    id: 'license',
    displayName: 'license',
    description: 'Coupa license flags',
  });

  const userList: Resource[] = [];
  for (let i = 1; i <= users; i++) {
    const email = `user${i}@example.com`;
    // Struct fields are JsonObject in protobuf-es v2; integers become doubles as in Go's structpb.
    const profile = { id: i, email, full_name: `Ünïcode Üser ${i}`, active: i % 2 === 1 };
    const trait = create(UserTraitSchema, {
      emails: [{ address: email, isPrimary: true }],
      status: { status: i % 2 === 1 ? UserTrait_Status_Status.ENABLED : UserTrait_Status_Status.DISABLED },
      profile,
      accountType: UserTrait_AccountType.HUMAN,
      login: email,
      createdAt: create(TimestampSchema, { seconds: 1700000000n + BigInt(i), nanos: 5 }),
    });
    userList.push(
      create(ResourceSchema, {
        id: { resourceType: 'user', resource: String(i) },
        displayName: `Ünïcode Üser ${i}`,
        annotations: [packAnnotation(UserTraitSchema, trait)],
        creationSource: Resource_CreationSource.CONNECTOR_LIST_RESOURCES,
      }),
    );
  }
  const group = create(ResourceSchema, {
    id: { resourceType: 'group', resource: '10' },
    displayName: 'Buyers, "EU"',
    description: 'Buyers group in Coupa',
    annotations: [emptyAnnotation(GroupTraitSchema)],
    creationSource: Resource_CreationSource.CONNECTOR_LIST_RESOURCES,
  });
  const childGroup = create(ResourceSchema, {
    id: { resourceType: 'group', resource: '11' },
    parentResourceId: { resourceType: 'group', resource: '10' },
    displayName: 'Buyers child',
    externalId: { id: 'ext-11', link: 'https://example.invalid/11', description: 'upstream id' },
    annotations: [emptyAnnotation(GroupTraitSchema)],
  });
  const role = create(ResourceSchema, {
    id: { resourceType: 'role', resource: '20' },
    displayName: 'Admin',
    description: 'Admin role in Coupa',
    annotations: [emptyAnnotation(RoleTraitSchema)],
    creationSource: Resource_CreationSource.CONNECTOR_LIST_RESOURCES,
  });
  const license = create(ResourceSchema, {
    id: { resourceType: 'license', resource: 'treasury_user' },
    displayName: 'Treasury',
    description: 'Treasury license in Coupa',
    creationSource: Resource_CreationSource.CONNECTOR_LIST_RESOURCES,
  });

  const ent = (r: Resource, name: string, kind: string) =>
    create(EntitlementSchema, {
      resource: r,
      id: `${r.id!.resourceType}:${r.id!.resource}:${name}`,
      displayName: `${r.displayName} ${kind}`,
      description: `${r.displayName} ${kind.toLowerCase()} in Coupa`,
      grantableTo: [userRt],
      purpose: Entitlement_PurposeValue.ASSIGNMENT,
      slug: name,
    });
  const groupEnt = ent(group, 'member', 'Group');
  const roleEnt = ent(role, 'member', 'Role');
  const licenseEnt = ent(license, 'assigned', 'License');

  // Grants carry a stub of the entitlement (id + resource) as Go writes them, with the ETag quirk.
  const stub = (e: Entitlement) =>
    create(EntitlementSchema, {
      id: e.id,
      resource: { ...e.resource!, annotations: [...e.resource!.annotations, emptyAnnotation(ETagSchema)] },
    });
  const stubs = [stub(groupEnt), stub(roleEnt), stub(licenseEnt)];
  const grants: Grant[] = [];
  userList.forEach((u, i) => {
    for (const e of stubs.slice(0, 1 + (i % 3))) {
      grants.push(
        create(GrantSchema, {
          id: `${e.id}:user:${u.id!.resource}`,
          entitlement: e,
          principal: { id: u.id },
        }),
      );
    }
  });
  grants.push(
    create(GrantSchema, {
      id: `${stubs[0]!.id}:group:11`,
      entitlement: stubs[0],
      principal: { id: childGroup.id },
      annotations: [
        packAnnotation(GrantExpandableSchema, { entitlementIds: ['group:11:member'], shallow: true }),
      ],
      sources: { sources: { 'group:11:member': {} } },
    }),
  );
  return {
    resourceTypes: [userRt, groupRt, roleRt, licenseRt],
    resources: [...userList, group, childGroup, role, license],
    entitlements: [groupEnt, roleEnt, licenseEnt],
    grants,
  };
}

/** sqlite_master rows with whitespace collapsed, in a stable order. */
export function schemaOf(
  db: Database.Database,
): { type: string; name: string; tbl_name: string; sql: string }[] {
  const rows = db
    .prepare(`select type, name, tbl_name, sql from sqlite_master order by type, name`)
    .all() as {
    type: string;
    name: string;
    tbl_name: string;
    sql: string | null;
  }[];
  return rows.map((r) => ({ ...r, sql: (r.sql ?? '').replace(/\s+/g, ' ').trim() }));
}

/** Appends `s` as one more finished sync of `path` (a new file if absent), keeping up to 5 syncs. */
export async function writeSync(path: string, s: Sample): Promise<void> {
  const w = await C1zWriter.create(path, { keepSyncs: 5 });
  s.resourceTypes.forEach((x) => w.putResourceType(x));
  s.resources.forEach((x) => w.putResource(x));
  s.entitlements.forEach((x) => w.putEntitlement(x));
  s.grants.forEach((x) => w.putGrant(x));
  await w.finish();
}

/** A role or group resource, its member entitlement and one grant of it to `user`, to add to a Sample. */
export function withMembership(
  s: Sample,
  type: 'role' | 'group',
  id: string,
  name: string,
  user = '1',
): Sample {
  const resource = create(ResourceSchema, {
    id: { resourceType: type, resource: id },
    displayName: name,
    annotations: [emptyAnnotation(type === 'role' ? RoleTraitSchema : GroupTraitSchema)],
  });
  const entitlement = create(EntitlementSchema, {
    resource,
    id: `${type}:${id}:member`,
    displayName: `${name} member`,
    slug: 'member',
    purpose: Entitlement_PurposeValue.ASSIGNMENT,
  });
  const grant = create(GrantSchema, {
    id: `${type}:${id}:member:user:${user}`,
    entitlement: { id: entitlement.id, resource },
    principal: { id: { resourceType: 'user', resource: user } },
  });
  return {
    ...s,
    resources: [...s.resources, resource],
    entitlements: [...s.entitlements, entitlement],
    grants: [...s.grants, grant],
  };
}
