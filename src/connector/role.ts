import { ResourceType_Trait, RoleTraitSchema } from '../c1z/messages.js';
import { GroupLikeKind } from './group-like.js';
import { ResourceTypeId } from './ids.js';

/** Coupa roles (`/api/roles`, `roles` on a user), as baton-coupa's `role`. */
export const roleKind = new GroupLikeKind({
  typeId: ResourceTypeId.role,
  typeDisplayName: 'role',
  trait: ResourceType_Trait.ROLE,
  traitSchema: RoleTraitSchema,
  noun: 'role',
  entitlementSuffix: 'Role',
});
