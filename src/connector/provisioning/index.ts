export { Provisioner, type ProvisionerOptions } from './provisioner.js';
export type { ProvisioningResult, Outcome, Operation } from './result.js';
export type { RecoveryReport, RecoveryEntryReport } from './recover.js';
export type { CoupaWriteApi, PlannedCall, RetryPolicy } from './context.js';
export { DEFAULT_RETRY_POLICY, defaultSettleWindowMs } from './context.js';
export { ArrayModeMemory, processArrayModes, type ArrayMode } from './array-mode.js';
export { Journal, DEFAULT_JOURNAL_PATH, type JournalIntent } from './journal.js';
export { AuditLog, DEFAULT_AUDIT_LOG_PATH, type AuditRecord } from './audit-log.js';
export { KeyedMutex } from './keyed-mutex.js';
export {
  UserLockFiles,
  DEFAULT_LOCK_TIMEOUT_MS,
  DEFAULT_LOCK_MAX_AGE_MS,
  type UserLockFilesOptions,
} from './user-lock.js';
export type { LockHolder } from './lock-file.js';
export {
  resolveEntitlement,
  resolveGrant,
  parseUserId,
  licenseFlagFor,
  type EntitlementTarget,
  type MembershipTarget,
  type FlagTarget,
} from './entitlement-ref.js';
export {
  accountBody,
  AUTHENTICATION_METHODS,
  type CreateAccountInput,
  type AccountProfile,
} from './account-ops.js';
export * from './errors.js';
export { stateRoot, tenantKey, tenantStatePaths, STATE_DIR_ENV, type StatePaths } from './state-dir.js';
export type { ArrayMembershipType, MembershipType } from '../types/index.js';
