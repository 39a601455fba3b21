import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { create, toJson, type JsonObject } from '@bufbuild/protobuf';
import { C1zReader } from '../../src/c1z/reader.js';
import {
  EntitlementSchema,
  GrantSchema,
  ResourceSchema,
  ResourceTypeSchema,
  UserTraitSchema,
  type Resource,
} from '../../src/c1z/messages.js';
import { c1zRegistry, findAnnotation } from '../../src/c1z/any.js';
import {
  flagForLicenseId,
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
} from '../../src/connector/index.js';
import { memberGrant } from '../../src/connector/grants.js';
import { FIXTURE } from '../c1z/helpers.js';

/**
 * What the Go connector really wrote (test/fixtures/peer-sync-1000.c1z, baton-coupa e250d4e +
 * baton-sdk v0.2.58), against what our mapping builds from the same Coupa data: ids, names,
 * descriptions, entitlements and grants must decode to the same messages.
 */
const json = (schema: Parameters<typeof toJson>[0], msg: Parameters<typeof toJson>[1]) =>
  toJson(schema, msg, { registry: c1zRegistry }) as JsonObject;

let reader: C1zReader;
beforeAll(async () => {
  reader = await C1zReader.open(FIXTURE);
});
afterAll(() => reader.close());

describe("baton-coupa's own file", () => {
  it('has the same four resource types', () => {
    const ours = [userResourceType, userGroups.resourceType, roles.resourceType, licenseResourceType];
    for (const rt of ours)
      expect(json(ResourceTypeSchema, reader.getResourceType(rt.id)!)).toEqual(json(ResourceTypeSchema, rt));
  });

  for (const membership of [groupMembership, roleMembership]) {
    const kind = membership.resource;
    it(`has the ${kind.id} resources and entitlements we build from the same name and description`, () => {
      let n = 0;
      for (const theirs of reader.resources({ resourceType: kind.id })) {
        const ours = kind.toResource({
          id: Number(theirs.id!.resource),
          name: theirs.displayName,
          description: theirs.description,
        });
        expect(json(ResourceSchema, ours)).toEqual(json(ResourceSchema, theirs));
        const [theirEnt] = [
          ...reader.entitlements({ resourceType: kind.id, resourceId: theirs.id!.resource }),
        ];
        expect(json(EntitlementSchema, entitlementFor(membership, ours))).toEqual(
          json(EntitlementSchema, theirEnt!),
        );
        n++;
      }
      expect(n).toBeGreaterThan(20);
    });
  }

  it('has the 13 licenses we build for the same flags, treasury_user included', () => {
    const ids: string[] = [];
    for (const theirs of reader.resources({ resourceType: 'license' })) {
      ids.push(theirs.id!.resource);
      const ours = licenseResource(flagForLicenseId(theirs.id!.resource));
      expect(json(ResourceSchema, ours)).toEqual(json(ResourceSchema, theirs));
      const [theirEnt] = [
        ...reader.entitlements({ resourceType: 'license', resourceId: theirs.id!.resource }),
      ];
      expect(json(EntitlementSchema, licenseEntitlement(ours))).toEqual(json(EntitlementSchema, theirEnt!));
    }
    expect(ids).toHaveLength(13);
    expect(ids).toContain('treasury_user');
  });

  it('has the grants we build, apart from the empty ETag the Go syncer adds to the embedded resource', () => {
    let n = 0;
    for (const type of ['group', 'role', 'license']) {
      for (const theirs of reader.grants({ resourceType: type })) {
        const stripped = create(GrantSchema, {
          ...theirs,
          entitlement: {
            ...theirs.entitlement!,
            resource: {
              ...theirs.entitlement!.resource!,
              annotations: theirs.entitlement!.resource!.annotations.filter(
                (a) => !a.typeUrl.endsWith('.ETag'),
              ),
            } as Resource,
          },
        });
        // Our stub carries the resource exactly as stored (with its trait), as Go's does minus the ETag.
        const ours = memberGrant(
          create(EntitlementSchema, {
            id: theirs.entitlement!.id,
            resource: reader.getResource(type, theirs.entitlement!.resource!.id!.resource)!,
          }),
          theirs.principal!.id!.resource,
        );
        expect(json(GrantSchema, ours)).toEqual(json(GrantSchema, stripped));
        // The first 500 of each type are plenty.
        if (++n % 500 === 0) break;
      }
    }
    expect(n).toBeGreaterThan(1000);
  });

  it('has users whose four profile keys, email, status and name are what ours carry too', () => {
    let n = 0;
    for (const theirs of reader.resources({ resourceType: 'user' })) {
      const trait = findAnnotation(theirs.annotations, UserTraitSchema)!;
      const p = trait.profile!;
      const ours = userToResource({
        id: p.id as number,
        login: `login.${String(p.id)}`,
        email: p.email as string,
        fullname: p.full_name as string,
        active: p.active as boolean,
      });
      const ourTrait = findAnnotation(ours.annotations, UserTraitSchema)!;
      expect(ours.id).toEqual(theirs.id);
      expect(ours.displayName).toBe(theirs.displayName);
      expect(ourTrait.profile).toMatchObject(p);
      expect(ourTrait.emails).toEqual(trait.emails);
      expect(ourTrait.status).toEqual(trait.status);
      expect(ourTrait.accountType).toBe(trait.accountType);
      if (++n === 200) break;
    }
    expect(n).toBe(200);
  });
});
