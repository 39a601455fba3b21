import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from '../../src/simulator/index.js';
import { UserSchema } from '../../src/coupa/models.js';
import { connectorCapabilities } from '../../src/connector/capabilities.js';
import { userFields } from '../../src/connector/reads.js';
import { MemorySink } from '../../src/connector/memory-sink.js';
import { syncToC1z } from '../../src/connector/sync.js';
import { resolveEntitlement } from '../../src/connector/provisioning/entitlement-ref.js';
import {
  ARRAY_MEMBERSHIPS,
  entitlementIdPatterns,
  GRANTABLE_RESOURCE_TYPES,
  MEMBERSHIP_TYPES,
  membershipTypeOfEntitlement,
  parseEntitlementId,
  RESOURCE_TYPE_ORDER,
  type MembershipTypeDescriptor,
} from '../../src/connector/types/index.js';
import { testClient } from '../helpers/client.js';
import { testSimulator } from '../helpers/simulator.js';

/**
 * The list of membership types is the one place a type is declared; these checks make forgetting
 * part of it a failing test rather than a sync that silently writes no grants.
 */

const TYPES_DIR = join(import.meta.dirname, '../../src/connector/types');

describe('the membership types list', () => {
  it('holds every descriptor defined in src/connector/types/', async () => {
    const found: MembershipTypeDescriptor[] = [];
    for (const file of readdirSync(TYPES_DIR).filter((f) => f.endsWith('.ts'))) {
      const mod = (await import(pathToFileURL(join(TYPES_DIR, file)).href)) as Record<string, unknown>;
      for (const value of Object.values(mod)) {
        if (value && typeof value === 'object' && 'carrier' in value && 'entitlement' in value) {
          found.push(value as MembershipTypeDescriptor);
        }
      }
    }
    expect(found.length).toBeGreaterThanOrEqual(MEMBERSHIP_TYPES.length);
    for (const d of found) expect(MEMBERSHIP_TYPES, `${d.name} is in list.ts`).toContain(d);
  });

  it('gives each type its own name, entitlement id pattern and user field', () => {
    const names = MEMBERSHIP_TYPES.map((t) => t.name);
    expect(new Set(names).size).toBe(names.length);
    const patterns = entitlementIdPatterns();
    expect(new Set(patterns).size).toBe(patterns.length);
    const fields = ARRAY_MEMBERSHIPS.map((m) => m.userField);
    expect(new Set(fields).size).toBe(fields.length);
  });

  it("covers every association array of Coupa's user", () => {
    // The arrays of UserSchema that hold {id, name} references (docs/coupa-api.md §4).
    const arrays = Object.entries(UserSchema.shape)
      .filter(([, schema]) => schema === UserSchema.shape.roles)
      .map(([key]) => key)
      .sort();
    expect(arrays).toEqual(['account-groups', 'approval-groups', 'content-groups', 'roles', 'user-groups']);
    expect(ARRAY_MEMBERSHIPS.map((m) => m.userField).sort()).toEqual(arrays);
  });

  it.each(MEMBERSHIP_TYPES.map((t) => [t.name, t] as const))(
    '%s reaches the sync, capabilities, summaries and provisioning',
    (_name, type) => {
      const rt = type.carrier === 'user-array' ? type.resource.resourceType : type.resourceType;
      expect(GRANTABLE_RESOURCE_TYPES).toContain(rt);
      expect(RESOURCE_TYPE_ORDER).toContain(rt.id);
      const caps = connectorCapabilities().resourceTypeCapabilities.find((c) => c.resourceType.id === rt.id);
      expect(caps?.capabilities).toEqual(['CAPABILITY_SYNC', 'CAPABILITY_PROVISION']);
      const fields = JSON.stringify(userFields());
      if (type.carrier === 'user-array') {
        expect(fields).toContain(JSON.stringify(type.userField));
        const id = `${rt.id}:17:${type.entitlement.slug}`;
        expect(parseEntitlementId(id)).toEqual({
          resourceType: rt.id,
          resourceId: '17',
          slug: type.entitlement.slug,
        });
        expect(membershipTypeOfEntitlement(id)).toBe(type);
        expect(resolveEntitlement(id)).toMatchObject({ membership: type, id: 17 });
      } else {
        for (const flag of type.flags) expect(fields).toContain(JSON.stringify(flag));
        const resource = type.resourceFor(type.flags[0]!);
        const id = `${rt.id}:${resource.id!.resource}:${type.entitlement.slug}`;
        expect(membershipTypeOfEntitlement(id)).toBe(type);
        expect(resolveEntitlement(id)).toMatchObject({ flagMembership: type, flag: type.flags[0] });
      }
    },
  );
});

describe('a sync into memory (no SQLite)', () => {
  let sim: Simulator;
  let sink: MemorySink;

  beforeAll(async () => {
    sim = await testSimulator({ tenant: { seed: 5, users: 120 } });
    sink = new MemorySink();
    await syncToC1z({ client: testClient(sim), sink });
  });
  afterAll(() => sim.close());

  it('finishes the sink and writes every resource type once', () => {
    expect(sink.state).toBe('finished');
    const ids = sink.resourceTypes.map((rt) => rt.id);
    expect(ids).toEqual(RESOURCE_TYPE_ORDER);
  });

  it.each(MEMBERSHIP_TYPES.map((t) => [t.name, t] as const))(
    'writes entitlements and grants of %s',
    (_name, type) => {
      const ofType = (id: string) => membershipTypeOfEntitlement(id) === type;
      expect(sink.entitlements.filter((e) => ofType(e.id)).length).toBeGreaterThan(0);
      expect(sink.grants.filter((g) => ofType(g.entitlement!.id)).length).toBeGreaterThan(0);
    },
  );

  it('writes every grant against an entitlement it wrote, and every entitlement against a resource', () => {
    const entitlements = new Set(sink.entitlements.map((e) => e.id));
    const resources = new Set(sink.resources.map((r) => `${r.id!.resourceType}:${r.id!.resource}`));
    for (const g of sink.grants) expect(entitlements.has(g.entitlement!.id), g.id).toBe(true);
    for (const e of sink.entitlements) {
      expect(resources.has(`${e.resource!.id!.resourceType}:${e.resource!.id!.resource}`), e.id).toBe(true);
    }
  });
});
