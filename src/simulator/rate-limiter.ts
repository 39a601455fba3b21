/**
 * Leaky bucket as a meter (Coupa: 25 requests/second, burst 20). Each admitted request adds one
 * unit; the bucket drains continuously at `perSecond`. A request that would overflow `burst` is
 * refused and adds nothing. Draining is computed from a monotonic clock with fractional precision,
 * so a client pacing itself at exactly `perSecond` is never refused.
 */
export class LeakyBucket {
  private level = 0;
  private last: number;
  private readonly now: () => number;

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    now: () => number = () => performance.now(),
  ) {
    this.now = now;
    this.last = now();
  }

  /** Returns 0 when admitted, otherwise the seconds to wait before the request would fit. */
  take(): number {
    const t = this.now();
    this.level = Math.max(0, this.level - ((t - this.last) / 1000) * this.perSecond);
    this.last = t;
    // The epsilon absorbs float error so that "exactly at the limit" stays admitted.
    if (this.level + 1 <= this.burst + 1e-9) {
      this.level += 1;
      return 0;
    }
    return (this.level + 1 - this.burst) / this.perSecond;
  }
}
