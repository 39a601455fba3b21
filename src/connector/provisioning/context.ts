import type { ZodType } from 'zod';
import type { Logger } from '../../log.js';
import { CoupaApiError, CoupaHttpError } from '../../coupa/errors.js';
import type { ArrayModeMemory } from './array-mode.js';
import type { AuditLog } from './audit-log.js';
import type { Journal } from './journal.js';
import { KeyedMutex } from './keyed-mutex.js';
import type { UserLockFiles } from './user-lock.js';
import { UnknownUserError } from './errors.js';
import type { FieldSpec } from '../../coupa/fields.js';

export type { FieldSpec };

/** The slice of CoupaClient provisioning uses; tests and embedders may pass anything shaped like it. */
export interface CoupaWriteApi {
  get<T>(
    path: string,
    opts: { query?: Record<string, string>; fields?: FieldSpec; schema: ZodType<T> },
  ): Promise<T>;
  put<T>(path: string, body: unknown, opts: { fields?: FieldSpec; schema: ZodType<T> }): Promise<T>;
  post<T>(path: string, body: unknown, opts: { fields?: FieldSpec; schema: ZodType<T> }): Promise<T>;
  /**
   * CoupaClient's counters. Network failures are counted under their code (TIMEOUT, ECONNRESET…);
   * a rise during a write means an attempt may still be processed by the server after we gave up on it.
   */
  stats?(): { byStatus: Record<string, number> };
}

/** A write that a dry run would have sent. */
export interface PlannedCall {
  method: 'PUT' | 'POST';
  path: string;
  body: unknown;
  /** When the call depends on what the API answers to the previous one. */
  note?: string;
}

export interface RetryPolicy {
  /** Clear-then-set rounds of a removal in a merging tenant before giving up (≥ 1). */
  rounds: number;
  /** Attempts of the "set the rest" write within a round, on top of the client's own retries. */
  setAttempts: number;
  /** Pause between attempts. */
  delayMs: number;
  /**
   * How long a write whose answer was lost (timeout, reset) may still be applied by the server.
   * After such a clear, the rest is put back only once this has passed: a late clear landing after
   * the put-back would silently empty the list again.
   */
  settleMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  rounds: 3,
  setAttempts: 3,
  delayMs: 500,
  settleMs: 30_000,
};

export interface ProvisioningContext {
  api: CoupaWriteApi;
  /** Identifies the tenant in the journal, the audit log and the array-mode memory. */
  baseUrl: string;
  logger: Logger;
  dryRun: boolean;
  journal: Journal;
  audit: AuditLog;
  modes: ArrayModeMemory;
  retry: RetryPolicy;
  /** Cross-process per-user locks; absent when the embedder turned them off. Dry runs never take them. */
  lockFiles?: UserLockFiles;
}

/** One process-wide lock table, so that two provisioners in one process still serialise per user. */
export const userLocks = new KeyedMutex();

export function userLockKey(ctx: ProvisioningContext, userId: number): string {
  return `${ctx.baseUrl}|${userId}`;
}

/**
 * Every read-modify-write of one user runs inside this: first the in-process mutex (cheap, keeps
 * this process's own operations in order and off the lock file), then the lock file that other
 * processes see. A dry run writes nothing, so it takes no file lock and never waits for one.
 */
export function withUserLock<T>(ctx: ProvisioningContext, userId: number, fn: () => Promise<T>): Promise<T> {
  return userLocks.run(userLockKey(ctx, userId), () =>
    ctx.dryRun || !ctx.lockFiles ? fn() : ctx.lockFiles.run(ctx.baseUrl, userId, fn),
  );
}

export function userPath(userId: number): string {
  return `/api/users/${userId}`;
}

/** Reads the user fresh with a projection; a 404 means the user id is wrong, and says so. */
export async function readUser<T>(
  ctx: ProvisioningContext,
  userId: number,
  fields: FieldSpec,
  schema: ZodType<T>,
): Promise<T> {
  try {
    return await ctx.api.get(userPath(userId), { fields, schema });
  } catch (err) {
    if (err instanceof CoupaHttpError && err.status === 404)
      throw new UnknownUserError(String(userId), `GET ${ctx.baseUrl}${userPath(userId)} answered 404`);
    throw err;
  }
}

export function coupaMessageOf(err: unknown): string | undefined {
  if (err instanceof CoupaApiError) return err.coupaMessage ?? err.message;
  return err instanceof Error ? err.message : undefined;
}

/** Network failures (not HTTP answers) the client has seen so far. */
export function lostAnswers(ctx: ProvisioningContext): number | undefined {
  const byStatus = ctx.api.stats?.().byStatus;
  if (!byStatus) return undefined;
  let n = 0;
  for (const [key, count] of Object.entries(byStatus)) if (!/^\d+$/.test(key)) n += count;
  return n;
}
