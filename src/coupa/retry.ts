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
