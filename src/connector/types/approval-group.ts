import type { ArrayMembership } from './descriptor.js';
import { userGroups } from './group.js';

/**
 * Approval groups: user groups with `can-approve`, which a user holds through `approval-groups`
 * (docs/coupa-api.md §4–5). A second entitlement on the group resource, `group:<id>:approver`, on every
 * group that can approve. In Coupa's model the array is the user's approving groups, so holding
 * the approver entitlement also makes the user a member, and revoking it ends both.
 */
export const approvalGroupMembership: ArrayMembership<'approval_group'> = {
  carrier: 'user-array',
  name: 'approval_group',
  resource: userGroups,
  entitlement: {
    slug: 'approver',
    displaySuffix: 'Approver',
    describe: (name) => `Approver in the ${name} approval group in Coupa`,
  },
  userField: 'approval-groups',
  noun: 'approval group',
  plural: 'approval groups',
  appliesTo: {
    test: (group) => group['can-approve'] === true,
    listFields: ['can-approve'],
    unmet: 'cannot approve (`can-approve` is not true), and only groups that can approve have approvers',
  },
};
