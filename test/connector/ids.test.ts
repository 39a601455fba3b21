import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { entitlementId, grantId } from '../../src/connector/ids.js';
import { parseEntitlementId, parseGrantId } from '../../src/connector/types/index.js';

describe('entitlement and grant ids', () => {
  it("are baton-sdk's <type>:<id>:<slug> and <entitlement>:user:<uid> (c1z-format.md §3.4, §4.4)", () => {
    expect(entitlementId('group', '10', 'member')).toBe('group:10:member');
    expect(grantId('group:10:member', '1')).toBe('group:10:member:user:1');
    expect(grantId(entitlementId('license', 'expense-user', 'assigned'), '1')).toBe(
      'license:expense-user:assigned:user:1',
    );
  });

  it('parse back, including license ids with underscores and content/account groups', () => {
    expect(parseEntitlementId('role:20:member')).toEqual({
      resourceType: 'role',
      resourceId: '20',
      slug: 'member',
    });
    expect(parseEntitlementId('license:treasury_user:assigned')).toEqual({
      resourceType: 'license',
      resourceId: 'treasury_user',
      slug: 'assigned',
    });
    expect(parseGrantId('content_group:7:member:user:42')).toEqual({
      resourceType: 'content_group',
      resourceId: '7',
      slug: 'member',
      entitlementId: 'content_group:7:member',
      principalType: 'user',
      principalId: '42',
    });
    expect(parseGrantId('account_group:3:member:user:9')?.entitlementId).toBe('account_group:3:member');
  });

  it('reject what this connector never issues', () => {
    for (const bad of [
      '',
      'group',
      'group:10',
      'group::member',
      'group:10:assigned', // wrong slug for the type
      'license:aic-user:member',
      'user:1:member', // users have no entitlements
      'team:1:member', // unknown type
      'group:10:member:',
    ]) {
      expect(parseEntitlementId(bad), bad).toBeUndefined();
    }
    for (const bad of [
      'group:10:member',
      'group:10:member:user:',
      'group:10:member:user:abc',
      'group:10:member:group:1',
      'x:user:1',
    ]) {
      expect(parseGrantId(bad), bad).toBeUndefined();
    }
  });

  it('round-trip for any resource id, even one containing colons', () => {
    const type = fc.constantFrom('group', 'role', 'license', 'content_group', 'account_group');
    const resourceId = fc.string({ minLength: 1, maxLength: 30 });
    const uid = fc.integer({ min: 1, max: 10_000_000 }).map(String);
    fc.assert(
      fc.property(type, resourceId, uid, (t, rid, u) => {
        const slug = t === 'license' ? 'assigned' : 'member';
        const ent = entitlementId(t, rid, slug);
        expect(parseEntitlementId(ent)).toEqual({ resourceType: t, resourceId: rid, slug });
        const g = grantId(ent, u);
        expect(parseGrantId(g)).toEqual({
          resourceType: t,
          resourceId: rid,
          slug,
          entitlementId: ent,
          principalType: 'user',
          principalId: u,
        });
      }),
    );
  });
});
