import type { PlannedCall } from './context.js';

export type Outcome =
  | 'granted'
  | 'revoked'
  | 'already-granted'
  | 'already-revoked'
  | 'created'
  | 'enabled'
  | 'disabled'
  | 'already-enabled'
  | 'already-disabled'
  | 'planned';

export type Operation = 'grant' | 'revoke' | 'create-account' | 'enable-user' | 'disable-user';

/** What one provisioning call did; `message` is the line the CLI prints. */
export interface ProvisioningResult {
  operation: Operation;
  outcome: Outcome;
  userId: number;
  entitlementId?: string;
  before?: unknown;
  after?: unknown;
  /** Dry runs only: the writes that would have been sent. */
  plannedCalls?: PlannedCall[];
  message: string;
}
