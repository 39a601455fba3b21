import { dirname, join } from 'node:path';
import { silentLogger, type Logger } from '../../log.js';
import { processArrayModes, type ArrayModeMemory } from './array-mode.js';
import { AuditLog } from './audit-log.js';
import { Journal } from './journal.js';
import { ensureStateDir, STATE_DIR_ENV, stateRoot, tenantStatePaths } from './state-dir.js';
import { NeedsRecoveryError } from './errors.js';
import {
  DEFAULT_RETRY_POLICY,
  type CoupaWriteApi,
  type ProvisioningContext,
  type RetryPolicy,
} from './context.js';
import { parseUserId, resolveEntitlement, resolveGrant, type EntitlementTarget } from './entitlement-ref.js';
import { grantAssociation, revokeAssociation } from './association-ops.js';
import { setLicense } from './license-ops.js';
import { createAccount, setActive, type CreateAccountInput } from './account-ops.js';
import { recover, recoverEntry, type RecoveryReport } from './recover.js';
import { UserLockFiles } from './user-lock.js';
import type { ProvisioningResult } from './result.js';

export interface ProvisionerOptions {
  /** A CoupaClient created with the write scopes (or anything with the same get/put/post). */
  api: CoupaWriteApi;
  /** The tenant's base URL; keys the journal, the audit log and the array-mode memory. */
  baseUrl: string | URL;
  logger?: Logger;
  /**
   * Level of the "provisioning change failed" record: `error` (default) where it is the run's
   * record of the failure (the CLI with --log-format json), `debug` where the caller logs the
   * failure itself (service mode's "task failed"), so that one failure is one line.
   */
  failureLogLevel?: 'error' | 'debug';
  /** Read current state, plan the writes, send none of them. */
  dryRun?: boolean;
  /** Default `journal.jsonl` in the tenant's state folder (see state-dir.ts), whatever the working directory. */
  journalPath?: string;
  /** Default `audit.jsonl` in the tenant's state folder. */
  auditLogPath?: string;
  /** Root of the per-tenant state folders; default BATON_STATE_DIR, else the XDG state dir. */
  stateDir?: string;
  /** Defaults to the process-wide memory. */
  arrayModes?: ArrayModeMemory;
  retry?: Partial<RetryPolicy>;
  /**
   * Folder of the per-user lock files other processes also see; default `locks/` next to the
   * journal, so every process sharing a journal also shares the locks. `false` turns them off
   * (only for embedders that serialise writers to a user some other way).
   */
  lockDir?: string | false;
  /** How long to wait for another process's lock on a user; default 60 s. */
  lockTimeoutMs?: number;
  /** Aborting it ends any wait for another process's lock (nothing is changed then). */
  signal?: AbortSignal;
}

/**
 * Grants, revokes, account changes and recovery against one Coupa tenant. Every method is safe to
 * call concurrently: operations on one user are serialised (in this process by a mutex, across
 * processes sharing the journal folder by lock files), different users proceed in parallel.
 */
export class Provisioner {
  private readonly ctx: ProvisioningContext;

  constructor(opts: ProvisionerOptions) {
    const state = tenantStatePaths(opts.baseUrl, stateRoot(opts.stateDir ?? process.env[STATE_DIR_ENV]));
    if (!opts.journalPath || !opts.auditLogPath) ensureStateDir(state.dir);
    const journalPath = opts.journalPath ?? state.journal;
    const logger = opts.logger ?? silentLogger;
    this.ctx = {
      api: opts.api,
      baseUrl: String(opts.baseUrl).replace(/\/+$/, ''),
      logger,
      failureLogLevel: opts.failureLogLevel,
      dryRun: opts.dryRun ?? false,
      journal: new Journal(journalPath, { logger }),
      audit: new AuditLog(opts.auditLogPath ?? state.auditLog),
      modes: opts.arrayModes ?? processArrayModes,
      retry: { ...DEFAULT_RETRY_POLICY, ...opts.retry },
      lockFiles:
        opts.lockDir === false
          ? undefined
          : new UserLockFiles({
              dir: opts.lockDir ?? join(dirname(journalPath), 'locks'),
              timeoutMs: opts.lockTimeoutMs,
              logger,
              signal: opts.signal,
            }),
    };
    if (!this.ctx.dryRun) {
      // Refuse up front rather than after a change that could then not be journaled or logged.
      this.ctx.audit.ensureWritable();
      this.ctx.journal.ensureWritable();
    }
  }

  get journalPath(): string {
    return this.ctx.journal.path;
  }

  get auditLogPath(): string {
    return this.ctx.audit.path;
  }

  /** Where the per-user lock files live, if they are on. */
  get lockDir(): string | undefined {
    return this.ctx.lockFiles?.dir;
  }

  async grant(entitlementId: string, userId: string | number): Promise<ProvisioningResult> {
    return this.apply(resolveEntitlement(entitlementId), parseUserId(userId), true);
  }

  async revoke(entitlementId: string, userId: string | number): Promise<ProvisioningResult> {
    return this.apply(resolveEntitlement(entitlementId), parseUserId(userId), false);
  }

  /** baton's `--revoke-grant <entitlement id>:user:<uid>`. */
  async revokeGrant(grantId: string): Promise<ProvisioningResult> {
    const { target, userId } = resolveGrant(grantId);
    return this.apply(target, userId, false);
  }

  async createAccount(input: CreateAccountInput): Promise<ProvisioningResult> {
    return createAccount(this.ctx, input);
  }

  async enableUser(userId: string | number): Promise<ProvisioningResult> {
    return setActive(this.ctx, parseUserId(userId), true);
  }

  async disableUser(userId: string | number): Promise<ProvisioningResult> {
    return setActive(this.ctx, parseUserId(userId), false);
  }

  /** Finishes every removal the journal holds as unfinished for this tenant. */
  async recover(): Promise<RecoveryReport> {
    return recover(this.ctx);
  }

  private async apply(
    target: EntitlementTarget,
    userId: number,
    grant: boolean,
  ): Promise<ProvisioningResult> {
    await this.finishOpenEntries(userId);
    if ('flag' in target) return setLicense(this.ctx, userId, target, grant);
    return grant ? grantAssociation(this.ctx, userId, target) : revokeAssociation(this.ctx, userId, target);
  }

  /**
   * A removal on this user that was cut off (the process killed between clearing a list and setting
   * it back) leaves the user with less than intended until it is finished. Any later grant or
   * revoke on the same user finishes it first, so it cannot build on the half-done state (nor can
   * the entry, replayed later, undo what this change did). If it cannot be finished now, nothing
   * else is changed: exit 5, as for the original failure.
   */
  private async finishOpenEntries(userId: number): Promise<void> {
    if (this.ctx.dryRun) return;
    const open = this.ctx.journal.scan(this.ctx.baseUrl).unfinished.filter((e) => e.userId === userId);
    for (const entry of open) {
      this.ctx.logger.warn(
        { userId, entryId: entry.entryId, field: entry.field, operation: entry.operation },
        'user has an unfinished change in the journal; finishing it first',
      );
      const report = await recoverEntry(this.ctx, entry);
      if (report.outcome === 'failed') {
        throw new NeedsRecoveryError({
          userId: String(userId),
          field: entry.field,
          intended: entry.intended,
          journalPath: this.ctx.journal.path,
          operation: `The earlier ${entry.operation} of ${entry.entitlementId} (journal entry ${entry.entryId})`,
          cause: new Error(report.message),
        });
      }
    }
  }
}
