/**
 * Retry policy: which failures are worth another attempt, and how long to wait before it.
 */
export interface RetryOptions {
  /** Attempts per request after the first. Default 6. */
  limit?: number;
  /** Total retries over the client's lifetime; past it every failure is final. Default 200. */
  budget?: number;
  /** First backoff ceiling; doubles per attempt. Default 250 ms. */
  baseDelayMs?: number;
  /** Largest backoff, and the longest Retry-After we are willing to wait. Default 30 s. */
  maxDelayMs?: number;
}

export const DEFAULT_RETRY: Required<RetryOptions> = {
  limit: 6,
  budget: 200,
  baseDelayMs: 250,
  maxDelayMs: 30_000,
};

/** Rate limited, or a server/gateway failure that is usually gone a moment later. */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || status === 500 || status === 502 || status === 503 || status === 504;
}

/**
 * Retry-After in milliseconds, from either form RFC 9110 allows (delta-seconds or an HTTP date).
 * Undefined when absent or unparseable.
 */
export function parseRetryAfter(value: string | null | undefined, nowMs = Date.now()): number | undefined {
  if (value == null) return undefined;
  const v = value.trim();
  if (v === '') return undefined;
  if (/^\d+(?:\.\d+)?$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}

/**
 * "Full jitter" exponential backoff: a uniform draw from [0, min(max, base·2^retry)]. Spreading the
 * retries of concurrent lanes is what keeps them from hitting a recovering server together.
 */
export function backoffDelay(
  retry: number,
  opts: { baseDelayMs: number; maxDelayMs: number },
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(opts.maxDelayMs, opts.baseDelayMs * 2 ** retry);
  return Math.floor(random() * ceiling);
}

/** The client-wide allowance of retries. */
export class RetryBudget {
  private used = 0;
  constructor(readonly total: number) {}

  /** Takes one retry from the budget; false when none is left. */
  take(): boolean {
    if (this.used >= this.total) return false;
    this.used++;
    return true;
  }

  get remaining(): number {
    return this.total - this.used;
  }
}

/** What one attempt came to, as far as retrying is concerned. */
export type AttemptOutcome =
  | {
      kind: 'response';
      status: number;
      /** The answer's Retry-After in milliseconds, if it had a readable one. */
      retryAfterMs?: number;
    }
  | {
      kind: 'network';
      /** Whether the failure is of a sort that can pass (reset, timeout), not one that cannot (bad port). */
      retryable: boolean;
      /** False when we know the request never left this machine. */
      sent: boolean;
    };

export interface RetryState {
  /** Retries already made for this request. */
  retries: number;
  /** Retries left in the client-wide budget. */
  budgetLeft: number;
  /**
   * Whether repeating is harmless when we cannot tell if the server acted (5xx, reset after
   * sending). A 429 or a connection that never opened is retried regardless: the server did nothing.
   */
  idempotent: boolean;
}

/**
 * The retry decision: `done` hands the answer to the caller (2xx, and every failure retrying
 * cannot help, which the caller turns into its own error); `retry` waits `delayMs` and sends
 * again; `fail` gives up on a failure that retrying might have helped, saying why.
 */
export type RetryDecision =
  | { action: 'done' }
  | { action: 'retry'; delayMs: number }
  | { action: 'fail'; reason: 'not-retryable' | 'retry-after-too-long' | 'attempts' | 'budget' };

/**
 * Decides what follows an attempt, from the attempt's outcome, the request's retry state and the
 * policy: pure, so every rule is tested by tables without a server or a wall clock. `random`
 * feeds the backoff's jitter.
 */
export function decideRetry(
  outcome: AttemptOutcome,
  state: RetryState,
  policy: Required<RetryOptions>,
  random: () => number = Math.random,
): RetryDecision {
  if (outcome.kind === 'response') {
    if (!isRetryableStatus(outcome.status)) return { action: 'done' };
    // A 5xx to a POST may mean the user was created: the caller reports it, never repeats it.
    if (outcome.status !== 429 && !state.idempotent) return { action: 'done' };
    if (outcome.retryAfterMs !== undefined && outcome.retryAfterMs > policy.maxDelayMs) {
      return { action: 'fail', reason: 'retry-after-too-long' };
    }
  } else if (!outcome.retryable || (!state.idempotent && outcome.sent)) {
    return { action: 'fail', reason: 'not-retryable' };
  }
  if (state.retries >= policy.limit) return { action: 'fail', reason: 'attempts' };
  if (state.budgetLeft <= 0) return { action: 'fail', reason: 'budget' };
  const retryAfter = outcome.kind === 'response' ? (outcome.retryAfterMs ?? 0) : 0;
  return { action: 'retry', delayMs: Math.max(retryAfter, backoffDelay(state.retries, policy, random)) };
}
