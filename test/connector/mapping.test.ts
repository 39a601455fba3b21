import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { toBinary, toJson } from '@bufbuild/protobuf';
import type { Simulator } from '../../src/simulator/index.js';
import { CoupaClient, UserSchema, type User } from '../../src/coupa/index.js';
import {
  EntitlementSchema,
  Entitlement_PurposeValue,
  GrantSchema,
  GroupTraitSchema,
  ResourceTypeSchema,
  Resource_CreationSource,
  RoleTraitSchema,
  UserTraitSchema,
  UserTrait_AccountType,
  UserTrait_Status_Status,
} from '../../src/c1z/messages.js';
import { c1zRegistry, findAnnotation, hasAnnotation } from '../../src/c1z/any.js';
import { C1zReader } from '../../src/c1z/reader.js';
import {
  accountGroups,
  contentGroups,
  licenseEntitlement,
  licenseResource,
  licenseResourceType,
  roles,
  roleMembership,
  userGroups,
  groupMembership,
  entitlementFor,
  userResourceType,
  userToResource,
  syncToC1z,
  userFields,
} from '../../src/connector/index.js';
import { memberGrant } from '../../src/connector/grants.js';
import { testClient } from '../helpers/client.js';
import { testSimulator } from '../helpers/simulator.js';
import { tempDir } from '../helpers/temp-dir.js';

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex').toUpperCase().match(/../g)!.join(' ');

describe('resource types', () => {
  // The bytes Go stores in v1_resource_types.data for baton-coupa (c1z-format.md §4.1).
  it('are byte-identical to baton-coupa for user, group, role and license', () => {
    expect(hex(toBinary(ResourceTypeSchema, userResourceType))).toBe(
      '0A 04 75 73 65 72 12 04 55 73 65 72 1A 01 01',
    );
    expect(hex(toBinary(ResourceTypeSchema, userGroups.resourceType))).toBe(
      '0A 05 67 72 6F 75 70 12 05 67 72 6F 75 70 1A 01 02',
    );
    expect(hex(toBinary(ResourceTypeSchema, roles.resourceType))).toBe(
      '0A 04 72 6F 6C 65 12 04 72 6F 6C 65 1A 01 03',
    );
    expect(hex(toBinary(ResourceTypeSchema, licenseResourceType))).toBe(
      '0A 07 6C 69 63 65 6E 73 65 12 07 6C 69 63 65 6E 73 65',
    );
  });

  it('adds content_group and account_group as group-like types', () => {
    expect(toJson(ResourceTypeSchema, contentGroups.resourceType)).toEqual({
      id: 'content_group',
      displayName: 'Content Group',
      traits: ['TRAIT_GROUP'],
    });
    expect(toJson(ResourceTypeSchema, accountGroups.resourceType)).toEqual({
      id: 'account_group',
      displayName: 'Account Group',
      traits: ['TRAIT_GROUP'],
    });
  });
});

describe('groups, roles and licenses', () => {
  it('map like baton-coupa: resource, member entitlement, grant stub', () => {
    const group = userGroups.toResource({ id: 10, name: 'Finance', description: null });
    expect(group.id).toMatchObject({ resourceType: 'group', resource: '10' });
    expect(group.displayName).toBe('Finance');
    expect(group.description).toBe('Finance group in Coupa');
    expect(group.creationSource).toBe(Resource_CreationSource.CONNECTOR_LIST_RESOURCES);
    expect(group.annotations).toHaveLength(1);
    expect(hasAnnotation(group.annotations, GroupTraitSchema)).toBe(true);
    expect(group.annotations[0]!.value).toHaveLength(0);

    const ent = entitlementFor(groupMembership, group);
    expect(toJson(EntitlementSchema, ent, { registry: c1zRegistry })).toMatchObject({
      id: 'group:10:member',
      displayName: 'Finance Group',
      description: 'Finance group in Coupa',
      purpose: 'PURPOSE_VALUE_ASSIGNMENT',
      slug: 'member',
      grantableTo: [{ id: 'user', displayName: 'User', traits: ['TRAIT_USER'] }],
    });
    expect(ent.resource).toBe(group);

    const grant = memberGrant(ent, '42');
    expect(grant.id).toBe('group:10:member:user:42');
    // Every grant of one entitlement shares one stub object: the c1z writer encodes it once per
    // object, so a fresh copy per grant would re-serialise the resource for every grant.
    expect(memberGrant(ent, '43').entitlement).toBe(grant.entitlement);
    expect(toJson(GrantSchema, grant, { registry: c1zRegistry })).toEqual({
      id: 'group:10:member:user:42',
      entitlement: {
        id: 'group:10:member',
        resource: (toJson(EntitlementSchema, ent, { registry: c1zRegistry }) as { resource: unknown })
          .resource,
      },
      principal: { id: { resourceType: 'user', resource: '42' } },
    });
  });

  it('keeps a role description from Coupa and falls back to baton-coupa text otherwise', () => {
    const own = roles.toResource({ id: 4, name: 'Buyer', description: 'Buys things' });
    expect(own.description).toBe('Buys things');
    expect(hasAnnotation(own.annotations, RoleTraitSchema)).toBe(true);
    // The entitlement description is always the generated one, as baton-coupa writes it.
    expect(entitlementFor(roleMembership, own).description).toBe('Buyer role in Coupa');
    expect(entitlementFor(roleMembership, own).displayName).toBe('Buyer Role');
    expect(roles.toResource({ id: 5, name: 'Admin', description: '' }).description).toBe(
      'Admin role in Coupa',
    );
  });

  it("uses baton-coupa's license ids, including treasury_user", () => {
    const treasury = licenseResource('treasury-user');
    expect(treasury.id).toMatchObject({ resourceType: 'license', resource: 'treasury_user' });
    expect(treasury.displayName).toBe('Treasury');
    expect(treasury.description).toBe('Treasury license in Coupa');
    expect(treasury.annotations).toHaveLength(0);
    const aic = licenseResource('aic-user');
    expect(aic.displayName).toBe('AI classification');
    const ent = licenseEntitlement(aic);
    expect(ent.id).toBe('license:aic-user:assigned');
    expect(ent.slug).toBe('assigned');
    expect(ent.displayName).toBe('AI classification License');
    expect(ent.purpose).toBe(Entitlement_PurposeValue.ASSIGNMENT);
    // Flags baton-coupa does not know keep their output key as id.
    expect(licenseResource('intake-user').id?.resource).toBe('intake-user');
  });
});

describe('a user, against what the simulator returns for it', () => {
  let sim: Simulator;
  let client: CoupaClient;
  const tmp = tempDir();
  let syncedPath: string;

  beforeAll(async () => {
    sim = await testSimulator({ tenant: { seed: 3, users: 150 } });
    client = testClient(sim);
    syncedPath = (await syncToC1z({ client: testClient(sim), outPath: join(tmp.dir, 'out.c1z') })).path;
  });
  afterAll(async () => {
    await sim.close();
    tmp.cleanup();
  });

  function pickUser(pick: (u: (typeof sim.tenant.users.list)[number]) => boolean): number {
    const rec = sim.tenant.users.list.find(pick);
    expect(rec, 'the generated tenant has such a user').toBeDefined();
    return rec!.id;
  }

  /** No `fields`: the complete object, as Coupa shows it. */
  function fullUser(id: number): Promise<User> {
    return client.get(`/api/users/${id}`, { schema: UserSchema });
  }

  /** What one record of the sync's page looks like: the same `fields` projection. */
  function projectedUser(id: number): Promise<User> {
    return client.get(`/api/users/${id}`, { schema: UserSchema, fields: userFields() });
  }

  it('carries identity, status, manager, approval limits and timestamps in its profile', async () => {
    const raw = await projectedUser(
      pickUser(
        (u) => u.managerId !== null && u.approvalLimits !== null && !u.apiUser && u.employeeNumber !== null,
      ),
    );
    const resource = userToResource(raw);
    expect(resource.id).toMatchObject({ resourceType: 'user', resource: String(raw.id) });
    expect(resource.displayName).toBe(raw.fullname);
    const trait = findAnnotation(resource.annotations, UserTraitSchema)!;
    expect(trait.login).toBe(raw.login);
    expect(trait.emails).toEqual([expect.objectContaining({ address: raw.email, isPrimary: true })]);
    expect(trait.status?.status).toBe(
      raw.active ? UserTrait_Status_Status.ENABLED : UserTrait_Status_Status.DISABLED,
    );
    expect(trait.accountType).toBe(UserTrait_AccountType.HUMAN);

    const p = trait.profile!;
    expect(p.id).toBe(raw.id);
    expect(p.login).toBe(raw.login);
    expect(p.email).toBe(raw.email);
    expect(p.first_name).toBe(raw.firstname);
    expect(p.last_name).toBe(raw.lastname);
    expect(p.full_name).toBe(raw.fullname);
    expect(p.active).toBe(raw.active);
    expect(p.employee_number).toBe(raw['employee-number']);
    expect(p.manager_id).toBe(raw.manager!.id);
    expect(p.manager_login).toBe(raw.manager!.login);
    expect(p.created_at).toBe(raw['created-at']);
    expect(p.updated_at).toBe(raw['updated-at']);
    const limits = Object.entries(raw as Record<string, unknown>).filter(
      ([k, v]) => k.endsWith('approval-limit') && v !== null,
    ) as Array<[string, { amount: string | number; currency: { code: string } }]>;
    expect(limits.length).toBeGreaterThan(0);
    for (const [key, limit] of limits) {
      expect(p[key.replace(/-/g, '_')]).toEqual({
        amount: String(limit.amount),
        currency: limit.currency.code,
      });
    }
  });

  it('loses nothing in the sync, although the sync asks only for the fields it needs', async () => {
    const raw = await fullUser(pickUser((u) => u.managerId !== null && u.approvalLimits !== null));
    const expected = findAnnotation(userToResource(raw).annotations, UserTraitSchema)!;
    expect(Object.keys(expected.profile!).length).toBeGreaterThan(10);
    const reader = await C1zReader.open(syncedPath);
    try {
      const stored = reader.getResource('user', String(raw.id))!;
      const trait = findAnnotation(stored.annotations, UserTraitSchema)!;
      // Everything the complete object yields is there (the projection may add detail, such as
      // the approval limits' currency, which the simulator's full view leaves out).
      expect(trait.profile).toMatchObject(expected.profile!);
      expect(trait.login).toBe(expected.login);
      expect(trait.emails).toEqual(expected.emails);
      expect(stored.displayName).toBe(raw.fullname);
    } finally {
      reader.close();
    }
  });

  it('is a SERVICE account when Coupa marks it as an API user, and disabled when inactive', async () => {
    const api = await fullUser(pickUser((u) => u.apiUser));
    expect(api['api-user']).toBe(true);
    expect(findAnnotation(userToResource(api).annotations, UserTraitSchema)!.accountType).toBe(
      UserTrait_AccountType.SERVICE,
    );
    const inactive = await fullUser(pickUser((u) => !u.active));
    expect(inactive.active).toBe(false);
    expect(findAnnotation(userToResource(inactive).annotations, UserTraitSchema)!.status?.status).toBe(
      UserTrait_Status_Status.DISABLED,
    );
  });
});
