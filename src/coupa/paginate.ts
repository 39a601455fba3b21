/**
 * Keyset pagination over an index endpoint, in id order.
 *
 * Every page asks for `order_by=id&dir=asc&limit=50` and the ids after the last one seen
 * (`id[gt]=<last id>`). Unlike offsets, a cursor on id cannot be shifted by records created,
 * deactivated or removed while we read: a record that exists for the whole walk is returned once,
 * whatever happens around it. Items are also deduplicated by id, so a server that repeats one
 * across pages cannot produce a duplicate.
 *
 * With `lanes > 1`, one probe (`dir=desc&limit=1&fields=["id"]`) finds the largest id, [0, max]
 * is cut into lanes whose widths are multiples of the page size — so dense ids give exactly
 * ceil(n/50) pages in total — and the lanes are walked concurrently. Bounded lanes stop when a
 * page reaches their upper bound, or comes back empty or short with nothing known to be left
 * (a short page below the bound or the probe's max id is followed up, in case the server caps
 * pages below 50); the last lane has no upper bound, so records created during the walk are
 * still picked up.
 */

export const PAGE_SIZE = 50;

export interface PageRequest {
  /** Query parameters for this page (ordering, limit, cursor, bounds), merged over the caller's. */
  query: Record<string, string>;
  /** True for the one "largest id" probe, which needs only ids. */
  probe: boolean;
  /** Shown in errors: "id > 150", "probe". */
  label: string;
  signal: AbortSignal;
}

export type PageFetcher<T extends { id: number }> = (req: PageRequest) => Promise<T[]>;

export interface PaginateOptions {
  lanes?: number;
  /** Called once, after the probe, with the largest id: an upper estimate of the item count. */
  onEstimate?: (approxTotal: number) => void;
  signal?: AbortSignal;
}

/** Id ranges (lo, hi] for the lanes; the last one is open-ended (hi undefined). */
export function laneRanges(maxId: number, lanes: number): Array<{ lo: number; hi?: number }> {
  const pages = Math.max(1, Math.ceil(maxId / PAGE_SIZE));
  const perLane = Math.ceil(pages / Math.max(1, Math.min(lanes, pages)));
  const count = Math.ceil(pages / perLane);
  const width = perLane * PAGE_SIZE;
  return Array.from({ length: count }, (_, i) => ({
    lo: i * width,
    hi: i === count - 1 ? undefined : (i + 1) * width,
  }));
}

async function* walkLane<T extends { id: number }>(
  fetchPage: PageFetcher<T>,
  range: { lo: number; hi?: number },
  signal: AbortSignal,
  knownMax?: number,
): AsyncGenerator<T[]> {
  let cursor = range.lo;
  for (;;) {
    const query: Record<string, string> = { order_by: 'id', dir: 'asc', limit: String(PAGE_SIZE) };
    if (cursor > 0) query['id[gt]'] = String(cursor);
    if (range.hi !== undefined) query['id[lt_or_eq]'] = String(range.hi);
    const label = range.hi === undefined ? `id > ${cursor}` : `${cursor} < id <= ${range.hi}`;
    const page = await fetchPage({ query, probe: false, label, signal });
    // Only records inside what was asked for count: one outside (cursor, hi] — a repeat, another
    // lane's record — must not move the cursor past ids nobody has read, or a range is skipped.
    const asked = page.filter((item) => item.id > cursor && (range.hi === undefined || item.id <= range.hi));
    yield asked;
    const last = asked.reduce((m, item) => Math.max(m, item.id), -Infinity);
    if (page.length < PAGE_SIZE) {
      // A short page ends the range unless ids are known to be left (below the lane's bound, or up
      // to the largest id the probe saw): then the server caps pages below 50, and stopping would
      // silently drop the rest. With dense ids this never costs a request.
      const end = range.hi ?? knownMax;
      if (asked.length === 0 || end === undefined || last >= end) return;
      cursor = last;
      continue;
    }
    if (range.hi !== undefined && last >= range.hi) return;
    if (last <= cursor) {
      // The server ignored id[gt]; going on would loop forever on the same page.
      throw new PaginationStuckError(label, cursor);
    }
    cursor = last;
  }
}

export class PaginationStuckError extends Error {
  constructor(
    readonly label: string,
    readonly cursor: number,
  ) {
    super(`page (${label}) did not advance past id ${cursor}`);
  }
}

export async function* paginateById<T extends { id: number }>(
  fetchPage: PageFetcher<T>,
  opts: PaginateOptions = {},
): AsyncGenerator<T[]> {
  const stop = new AbortController();
  const signal = opts.signal ? AbortSignal.any([opts.signal, stop.signal]) : stop.signal;
  const seen = new Set<number>();
  const fresh = (page: T[]): T[] =>
    page.filter((item) => {
      if (seen.has(item.id)) return false;
      seen.add(item.id);
      return true;
    });

  try {
    const lanes = Math.max(1, Math.floor(opts.lanes ?? 1));
    if (lanes === 1) {
      for await (const page of walkLane(fetchPage, { lo: 0 }, signal)) {
        const items = fresh(page);
        if (items.length) yield items;
      }
      return;
    }

    const top = await fetchPage({
      query: { order_by: 'id', dir: 'desc', limit: '1' },
      probe: true,
      label: 'probe',
      signal,
    });
    const maxId = top.reduce((m, item) => Math.max(m, item.id), 0);
    opts.onEstimate?.(maxId);
    if (maxId === 0) return;

    const queue: T[][] = [];
    let failure: { error: unknown } | undefined;
    let running = 0;
    let wake: (() => void) | undefined;
    const notify = () => {
      const w = wake;
      wake = undefined;
      w?.();
    };
    for (const range of laneRanges(maxId, lanes)) {
      running++;
      void (async () => {
        try {
          for await (const page of walkLane(fetchPage, range, signal, maxId)) {
            queue.push(page);
            notify();
          }
        } catch (error) {
          // The first failure wins; the others are lanes we aborted because of it.
          if (!failure) {
            failure = { error };
            stop.abort(error);
          }
        } finally {
          running--;
          notify();
        }
      })();
    }
    for (;;) {
      if (failure) throw failure.error;
      const page = queue.shift();
      if (page) {
        const items = fresh(page);
        if (items.length) yield items;
        continue;
      }
      if (running === 0) return;
      await new Promise<void>((resolve) => (wake = resolve));
    }
  } finally {
    // The consumer stopped early or something failed: stop the lanes' requests too.
    if (!stop.signal.aborted) stop.abort(new Error('pagination stopped'));
  }
}
