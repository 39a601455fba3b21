import { GroupTraitSchema, ResourceType_Trait } from '../c1z/messages.js';
import { GroupLikeKind } from './group-like.js';
import { ResourceTypeId } from './ids.js';

/**
 * Coupa account groups (`/api/account_groups`, `account-groups` on a user). Reading them needs
 * the `core.accounting.read` scope, which many OAuth clients lack; the sync skips them then.
 */
export const accountGroupKind = new GroupLikeKind({
  typeId: ResourceTypeId.accountGroup,
  typeDisplayName: 'Account Group',
  trait: ResourceType_Trait.GROUP,
  traitSchema: GroupTraitSchema,
  noun: 'account group',
  entitlementSuffix: 'Account Group',
});
