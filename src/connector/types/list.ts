import { groupMembership } from './group.js';
import { approvalGroupMembership } from './approval-group.js';
import { roleMembership } from './role.js';
import { licenseMembership } from './license.js';
import { contentGroupMembership } from './content-group.js';
import { accountGroupMembership } from './account-group.js';

/**
 * Every membership type the connector syncs and provisions, in the order people think of them
 * (summaries and capabilities follow it). Adding a type is a file next to this one and a line here.
 */
export const MEMBERSHIP_TYPES = [
  groupMembership,
  approvalGroupMembership,
  roleMembership,
  licenseMembership,
  contentGroupMembership,
  accountGroupMembership,
] as const;
