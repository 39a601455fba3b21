import { GroupTraitSchema, ResourceType_Trait } from '../../c1z/messages.js';
import { UserGroupSchema } from '../../coupa/models.js';
import { ListedResource, type ArrayMembership } from './descriptor.js';

/** Coupa user groups (`/api/user_groups`), as baton-coupa's `group`. */
export const userGroups = new ListedResource({
  id: 'group',
  displayName: 'group',
  trait: ResourceType_Trait.GROUP,
  traitSchema: GroupTraitSchema,
  noun: 'group',
  plural: 'user groups',
  list: { path: '/api/user_groups', schema: UserGroupSchema, fields: ['id', 'name', 'description'] },
});

/** Membership of a user group (`user-groups` on a user): `group:<id>:member`. */
export const groupMembership: ArrayMembership<'group'> = {
  carrier: 'user-array',
  name: 'group',
  resource: userGroups,
  entitlement: { slug: 'member', displaySuffix: 'Group', describe: (name) => `${name} group in Coupa` },
  userField: 'user-groups',
  noun: 'user group',
  plural: 'user groups',
};
