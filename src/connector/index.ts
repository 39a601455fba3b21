/** The connector model: Coupa objects as baton resources, entitlements and grants, and the sync. */
export * from './ids.js';
export { userResourceType, userToResource, userProfile, userDisplayName } from './user.js';
export { GroupLikeKind, memberGrant, type CoupaNamedObject } from './group-like.js';
export { userGroupKind } from './group.js';
export { roleKind } from './role.js';
export { contentGroupKind } from './content-group.js';
export { accountGroupKind } from './account-group.js';
export {
  licenseResourceType,
  licenseIdForFlag,
  flagForLicenseId,
  licenseResource,
  licenseEntitlement,
} from './license.js';
export { connectorCapabilities, type CapabilitiesJson } from './capabilities.js';
export { requestFloor, userFields } from './reads.js';
export {
  syncToC1z,
  SyncError,
  type SyncOptions,
  type SyncSummary,
  type SyncProgress,
  type SyncClient,
} from './sync.js';
