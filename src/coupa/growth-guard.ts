import { CoupaConnectorError, ExitCode } from '../errors.js';

/**
 * A list that keeps growing while it is read (records created faster than pages are fetched, or a
 * server that invents records) would make a keyset walk page forever. The walk's first estimate
 * of the list's size (see paginate.ts: the probe's `p51 + 50`, or the top page's highest id, which
 * with sparse ids only over-estimates) bounds it: past `factor` times that, plus some slack for a
 * small list, the walk ends with ListGrowthError instead.
 */
export const GROWTH_FACTOR = 3;
export const GROWTH_SLACK = 1000;
/** With no estimate at all (a plain ascending walk), a bound no real tenant reaches. */
export const UNESTIMATED_MAX_ITEMS = 5_000_000;

export class ListGrowthError extends CoupaConnectorError {
  readonly endpoint: string;
  readonly items: number;
  readonly estimate?: number;

  constructor(endpoint: string, items: number, estimate: number | undefined, limit: number) {
    super(
      estimate === undefined
        ? `${endpoint} returned more than ${limit} records and was still going; stopped reading it.`
        : `${endpoint} kept growing while it was read: ${items} records, more than ${limit} ` +
            `(${GROWTH_FACTOR}× its first estimate of ${estimate}, plus ${GROWTH_SLACK}); stopped reading it.`,
      {
        exitCode: ExitCode.failure,
        hint: 'Records are being created faster than they can be read, or the server returns records that do not exist. Nothing was written; try again when the tenant is quiet, or check --base-url.',
      },
    );
    this.endpoint = endpoint;
    this.items = items;
    this.estimate = estimate;
  }
}

export class ListGrowthGuard {
  private estimate?: number;
  private items = 0;

  constructor(private readonly endpoint: string) {}

  /** Only the first estimate counts: later ones would grow with the list they are meant to bound. */
  noteEstimate(approxTotal: number): void {
    if (this.estimate === undefined && approxTotal > 0) this.estimate = approxTotal;
  }

  get limit(): number {
    return this.estimate === undefined ? UNESTIMATED_MAX_ITEMS : this.estimate * GROWTH_FACTOR + GROWTH_SLACK;
  }

  /** Counts a page's new records; throws once the list has outgrown its bound. */
  add(count: number): void {
    this.items += count;
    if (this.items > this.limit) {
      throw new ListGrowthError(this.endpoint, this.items, this.estimate, this.limit);
    }
  }
}
