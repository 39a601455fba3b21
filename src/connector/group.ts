import { GroupTraitSchema, ResourceType_Trait } from '../c1z/messages.js';
import { GroupLikeKind } from './group-like.js';
import { ResourceTypeId } from './ids.js';

/** Coupa user groups (`/api/user_groups`, `user-groups` on a user), as baton-coupa's `group`. */
export const userGroupKind = new GroupLikeKind({
  typeId: ResourceTypeId.group,
  typeDisplayName: 'group',
  trait: ResourceType_Trait.GROUP,
  traitSchema: GroupTraitSchema,
  noun: 'group',
  entitlementSuffix: 'Group',
});
