import { describe, expect, it } from 'vitest';
import { MEMBERSHIP_TYPES } from '../../src/connector/types/index.js';
import { entitlementOf } from '../helpers/membership-truth.js';

/**
 * The tests' truth helpers build expected ids from the connector's own descriptors, so that a type
 * added to the list is expected everywhere with no line in the tests. That alone cannot catch a
 * changed prefix or slug, nor a type dropped from the list (its tests would just stop running).
 * This file spells the ids out, from baton-coupa's conventions, one literal per type.
 */
const EXPECTED: Record<string, string> = {
  'user-groups': 'group:7:member',
  'approval-groups': 'group:7:approver',
  roles: 'role:7:member',
  licenses: 'license:treasury_user:assigned',
  'content-groups': 'content_group:7:member',
  'account-groups': 'account_group:7:member',
};

describe('entitlement ids, spelled out independently of the connector', () => {
  const byKey = new Map(
    MEMBERSHIP_TYPES.map((t) => [
      t.carrier === 'user-array' ? t.userField : 'licenses',
      entitlementOf(t, t.carrier === 'user-array' ? 7 : 'treasury-user'),
    ]),
  );

  it('every membership type is still in the list, and none is added without an id here', () => {
    expect([...byKey.keys()].sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  it.each(Object.entries(EXPECTED))('%s: %s', (key, id) => {
    expect(byKey.get(key)).toBe(id);
  });
});
