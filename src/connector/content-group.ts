import { GroupTraitSchema, ResourceType_Trait } from '../c1z/messages.js';
import { GroupLikeKind } from './group-like.js';
import { ResourceTypeId } from './ids.js';

/**
 * Coupa content groups, which the API calls business groups (`/api/business_groups`,
 * `content-groups` on a user). Type id and display name as in newer baton-coupa; the GroupTrait
 * lets baton treat them as groups of users.
 */
export const contentGroupKind = new GroupLikeKind({
  typeId: ResourceTypeId.contentGroup,
  typeDisplayName: 'Content Group',
  trait: ResourceType_Trait.GROUP,
  traitSchema: GroupTraitSchema,
  noun: 'content group',
  entitlementSuffix: 'Content Group',
});
