import { GroupTraitSchema, ResourceType_Trait } from '../../c1z/messages.js';
import { AccountGroupSchema } from '../../coupa/models.js';
import { ACCOUNTING_READ_SCOPE } from '../../coupa/scopes.js';
import { ListedResource, type ArrayMembership } from './descriptor.js';

/**
 * Coupa account groups (`/api/account_groups`). Reading them needs the `core.accounting.read`
 * scope, which many OAuth clients lack: an optional scope, so the sync leaves them out then.
 */
export const accountGroups = new ListedResource({
  id: 'account_group',
  displayName: 'Account Group',
  trait: ResourceType_Trait.GROUP,
  traitSchema: GroupTraitSchema,
  noun: 'account group',
  plural: 'account groups',
  list: { path: '/api/account_groups', schema: AccountGroupSchema, fields: ['id', 'name'] },
  optionalScope: { scope: ACCOUNTING_READ_SCOPE, skipFlag: '--skip-account-groups' },
});

/** Membership of an account group (`account-groups` on a user): `account_group:<id>:member`. */
export const accountGroupMembership: ArrayMembership<'account_group'> = {
  carrier: 'user-array',
  name: 'account_group',
  resource: accountGroups,
  entitlement: {
    slug: 'member',
    displaySuffix: 'Account Group',
    describe: (name) => `${name} account group in Coupa`,
  },
  userField: 'account-groups',
  noun: 'account group',
  plural: 'account groups',
};
