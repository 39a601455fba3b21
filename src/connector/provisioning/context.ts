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
   * CoupaClient's counters. `unansweredWriteSentAt` (performance.now(); null before the first)
   * moves when a write attempt lost its answer after it may have reached the server: that attempt
   * may still be applied later (see write-watch.ts). Without the field, a rise of the
   * network-failure counts (TIMEOUT, ECONNRESET…) during a write says the same, with a later send
   * time assumed.
   */
  stats?(): { byStatus: Record<string, number>; unansweredWriteSentAt?: number | null };
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
  /**
   * Clear-then-set rounds of a removal in a merging tenant before giving up (≥ 1); also how many
   * times a list or flag found wrong after the settle window is written again.
   */
  rounds: number;
  /** Attempts of the "set the rest" write within a round, on top of the client's own retries. */
  setAttempts: number;
  /** Pause between attempts. */
  delayMs: number;
  /**
   * The settle window: how long after a write attempt was sent Coupa may still apply it, when its
   * answer was lost (timeout, reset, 502/504). An operation that lost one keeps the user locked
   * until this has passed since that attempt was sent, then reads the user to confirm (see
   * write-watch.ts). A write applied later than this cannot be seen.
   */
  settleMs: number;
}

/**
 * The default settle window for a client timing out requests after `requestTimeoutMs`: twice
 * that, and never under 10 s. Coupa's time to apply a request does not shrink with our patience:
 * it answers in 0.3–3 s when well, and a short client timeout only means we stop listening sooner.
 */
export function defaultSettleWindowMs(requestTimeoutMs: number): number {
  return Math.max(2 * requestTimeoutMs, 10_000);
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  rounds: 3,
  setAttempts: 3,
  delayMs: 500,
  // For CoupaClient's default 30 s timeout; pass your own when the client's differs.
  settleMs: defaultSettleWindowMs(30_000),
};

export interface ProvisioningContext {
  api: CoupaWriteApi;
  /** Identifies the tenant in the journal, the audit log and the array-mode memory. */
  baseUrl: string;
  logger: Logger;
  /** Level of the "provisioning change failed" record (see ProvisionerOptions.failureLogLevel). */
  failureLogLevel?: 'error' | 'debug';
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
