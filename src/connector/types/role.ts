import { ResourceType_Trait, RoleTraitSchema } from '../../c1z/messages.js';
import { RoleSchema } from '../../coupa/models.js';
import { ListedResource, type ArrayMembership } from './descriptor.js';

/** Coupa roles (`/api/roles`), as baton-coupa's `role`. */
export const roles = new ListedResource({
  id: 'role',
  displayName: 'role',
  trait: ResourceType_Trait.ROLE,
  traitSchema: RoleTraitSchema,
  noun: 'role',
  plural: 'roles',
  // omnipotent is Coupa's admin flag: access reviews ask who holds such roles.
  list: {
    path: '/api/roles',
    schema: RoleSchema,
    fields: ['id', 'name', 'description', 'omnipotent', 'system-role'],
  },
  // Governance facts in RoleTrait.profile, where ConductorOne shows a role's profile. A role known
  // only from a user's embedded reference (created mid-sync) has neither: its trait stays empty.
  traitProfile: (role) => {
    const profile: Record<string, boolean> = {};
    if (typeof role.omnipotent === 'boolean') profile.omnipotent = role.omnipotent;
    if (typeof role['system-role'] === 'boolean') profile.system_role = role['system-role'];
    return profile;
  },
});

/** A role a user holds (`roles` on a user): `role:<id>:member`. */
export const roleMembership: ArrayMembership<'role'> = {
  carrier: 'user-array',
  name: 'role',
  resource: roles,
  entitlement: { slug: 'member', displaySuffix: 'Role', describe: (name) => `${name} role in Coupa` },
  userField: 'roles',
  noun: 'role',
  plural: 'roles',
};
