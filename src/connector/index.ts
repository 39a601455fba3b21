/** The connector model: Coupa objects as baton resources, entitlements and grants, and the sync. */
export * from './ids.js';
export { userResourceType, userToResource, userProfile, userDisplayName } from './user.js';
export { memberGrant } from './grants.js';
export * from './types/index.js';
export { connectorCapabilities, type CapabilitiesJson } from './capabilities.js';
export { requestFloor, userFields } from './reads.js';
export { MemorySink } from './memory-sink.js';
export {
  syncToC1z,
  SyncError,
  type SyncOptions,
  type SyncSink,
  type SyncSummary,
  type SyncProgress,
  type SyncClient,
} from './sync.js';
