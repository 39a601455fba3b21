import { GroupTraitSchema, ResourceType_Trait } from '../../c1z/messages.js';
import { ContentGroupSchema } from '../../coupa/models.js';
import { ListedResource, type ArrayMembership } from './descriptor.js';

/**
 * Coupa content groups, which the API calls business groups (`/api/business_groups`). Type id and
 * display name as in newer baton-coupa; the GroupTrait lets baton treat them as groups of users.
 */
export const contentGroups = new ListedResource({
  id: 'content_group',
  displayName: 'Content Group',
  trait: ResourceType_Trait.GROUP,
  traitSchema: GroupTraitSchema,
  noun: 'content group',
  plural: 'content groups',
  list: { path: '/api/business_groups', schema: ContentGroupSchema, fields: ['id', 'name', 'description'] },
});

/** Membership of a content group (`content-groups` on a user): `content_group:<id>:member`. */
export const contentGroupMembership: ArrayMembership<'content_group'> = {
  carrier: 'user-array',
  name: 'content_group',
  resource: contentGroups,
  entitlement: {
    slug: 'member',
    displaySuffix: 'Content Group',
    describe: (name) => `${name} content group in Coupa`,
  },
  userField: 'content-groups',
  noun: 'content group',
  plural: 'content groups',
};
