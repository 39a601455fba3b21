/**
 * Governance attributes reach the c1z within baton's trait and profile conventions, each checked
 * against the simulator's ground truth: roles' omnipotent flag in RoleTrait.profile; users'
 * authentication method, SSO identifier and approval limits in UserTrait.profile, and
 * UserTrait.sso_status.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { C1zReader } from '../../src/c1z/reader.js';
import { findAnnotation } from '../../src/c1z/any.js';
import { RoleTraitSchema, UserTraitSchema } from '../../src/c1z/messages.js';
import { syncedTenant, type GroundTruth } from './helpers.js';

let tenant: Awaited<ReturnType<typeof syncedTenant>>;
let gt: GroundTruth;
let reader: C1zReader;

beforeAll(async () => {
  tenant = await syncedTenant({ seed: 41, users: 500 });
  gt = tenant.gt;
  reader = await C1zReader.open(tenant.file);
});
afterAll(async () => {
  reader?.close();
  await tenant?.close();
});

describe('governance attributes in the c1z', () => {
  it('roles carry omnipotent (Admin and the omnipotent custom roles) and system_role in RoleTrait.profile', () => {
    const omnipotent = gt.roles.filter((r) => r.omnipotent).map((r) => r.name);
    expect(omnipotent).toEqual(expect.arrayContaining(['Admin', 'Integration Admin']));
    expect(omnipotent.length).toBeLessThan(gt.roles.length / 3);
    for (const r of gt.roles) {
      const res = reader.getResource('role', String(r.id))!;
      const profile = findAnnotation(res.annotations, RoleTraitSchema)!.profile!;
      expect([r.name, profile.omnipotent]).toEqual([r.name, r.omnipotent]);
      expect(typeof profile.system_role).toBe('boolean');
    }
  });

  it('users carry sign-in method, SSO identifier, sso_status and approval limits', () => {
    const methods = new Set(gt.users.map((u) => u.authenticationMethod));
    // The tenant is realistic: some SSO, some password, a little LDAP.
    expect([...methods].sort()).toEqual(['coupa_credentials', 'ldap', 'saml']);
    let withLimits = 0;
    for (const u of gt.users) {
      const trait = findAnnotation(reader.getResource('user', String(u.id))!.annotations, UserTraitSchema)!;
      const p = trait.profile!;
      expect([u.id, p.authentication_method, p.sso_identifier ?? null]).toEqual([
        u.id,
        u.authenticationMethod,
        u.ssoIdentifier,
      ]);
      expect([u.id, trait.ssoStatus?.ssoEnabled]).toEqual([u.id, u.authenticationMethod === 'saml']);
      for (const [key, limit] of Object.entries(u.approvalLimits)) {
        withLimits++;
        expect(p[key.replace(/-/g, '_')]).toEqual({ amount: limit.amount, currency: limit.currency });
      }
      const limitKeys = Object.keys(p).filter((k) => k.endsWith('approval_limit'));
      expect(limitKeys.sort()).toEqual(
        Object.keys(u.approvalLimits)
          .map((k) => k.replace(/-/g, '_'))
          .sort(),
      );
    }
    expect(withLimits).toBeGreaterThan(20);
    // Self-approval limits too, not only approval limits.
    expect(
      gt.users.filter((u) => u.approvalLimits['requisition-self-approval-limit']).length,
    ).toBeGreaterThan(3);
  });
});
