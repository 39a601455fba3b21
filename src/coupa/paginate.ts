/**
 * Keyset pagination over an index endpoint, in id order.
 *
 * Every page asks for `order_by=id&dir=asc&limit=50` and the ids after the last one seen
 * (`id[gt]=<last id>`). Unlike offsets, a cursor on id cannot be shifted by records created,
 * deactivated or removed while we read: a record that exists for the whole walk is returned once,
 * whatever happens around it. Items are also deduplicated by id, so a server that repeats one
 * across pages cannot produce a duplicate.
 *
 * With `lanes > 1`, the walk starts with a probe that is a real page read from the top
 * (`dir=desc&limit=50`, the caller's fields): its items are the highest ids, its largest id is the
 * estimate, and its smallest id `pmin` bounds the rest. A short probe that reaches id 1 is the
 * whole list (one request). Otherwise (0, pmin) is cut into bounded lanes whose widths are
 * multiples of the page size — so dense ids cost exactly ceil(n/50) pages, probe included — walked
 * concurrently; a lane stops when a page reaches its bound, or comes back empty, or short with
 * its last id at the bound (a short page below the bound is followed up, in case the server caps
 * pages below 50). Once every bounded lane is done, one open-ended tail walk above the probe's
 * largest id picks up the records created during the walk (usually one empty page).
 */

export const PAGE_SIZE = 50;

export interface PageRequest {
  /** Query parameters for this page (ordering, limit, cursor, bounds), merged over the caller's. */
  query: Record<string, string>;
  /** Shown in errors: "id > 150", "0 < id <= 250", "probe". */
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

export interface LaneRange {
  /** Exclusive lower bound: the lane reads ids > lo. */
  lo: number;
  /** Inclusive upper bound; undefined for an open-ended walk. */
  hi?: number;
}

/**
 * Bounded id ranges (lo, hi] covering (0, bound], at most `lanes` of them, each starting at a
 * multiple of the page size so that dense ids fill every page but the very last.
 */
export function laneRanges(bound: number, lanes: number): Array<Required<LaneRange>> {
  const pages = Math.ceil(Math.max(0, bound) / PAGE_SIZE);
  if (pages === 0) return [];
  const perLane = Math.ceil(pages / Math.max(1, Math.min(lanes, pages)));
  const count = Math.ceil(pages / perLane);
  const width = perLane * PAGE_SIZE;
  return Array.from({ length: count }, (_, i) => ({
    lo: i * width,
    hi: Math.min((i + 1) * width, bound),
  }));
}

async function* walkLane<T extends { id: number }>(
  fetchPage: PageFetcher<T>,
  range: LaneRange,
  signal: AbortSignal,
): AsyncGenerator<T[]> {
  let cursor = range.lo;
  for (;;) {
    const query: Record<string, string> = { order_by: 'id', dir: 'asc', limit: String(PAGE_SIZE) };
    if (cursor > 0) query['id[gt]'] = String(cursor);
    if (range.hi !== undefined) query['id[lt_or_eq]'] = String(range.hi);
    const label = range.hi === undefined ? `id > ${cursor}` : `${cursor} < id <= ${range.hi}`;
    const page = await fetchPage({ query, label, signal });
    // Only records inside what was asked for count: one outside (cursor, hi] — a repeat, another
    // lane's record — must not move the cursor past ids nobody has read, or a range is skipped.
    const asked = page.filter((item) => item.id > cursor && (range.hi === undefined || item.id <= range.hi));
    yield asked;
    const last = asked.reduce((m, item) => Math.max(m, item.id), -Infinity);
    if (page.length < PAGE_SIZE) {
      // A short page ends the range unless it stopped below the lane's bound: then the server caps
      // pages below 50, and stopping would silently drop the rest. With dense ids this never costs
      // a request.
      if (asked.length === 0 || range.hi === undefined || last >= range.hi) return;
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
      query: { order_by: 'id', dir: 'desc', limit: String(PAGE_SIZE) },
      label: 'probe',
      signal,
    });
    const ids = top.map((item) => item.id);
    const maxId = Math.max(0, ...ids);
    const minId = Math.min(maxId, ...ids);
    opts.onEstimate?.(maxId);
    // A short page from the top is the whole list when nothing can lie below it. If it stopped
    // above id 1, ids may be left below: the server may cap pages below 50 (an honest answer just
    // costs one empty page, and then the tail).
    const whole = top.length < PAGE_SIZE && minId <= 1;

    const queue: T[][] = [top];
    let failure: { error: unknown } | undefined;
    let running = 0;
    let wake: (() => void) | undefined;
    const notify = () => {
      const w = wake;
      wake = undefined;
      w?.();
    };
    const launch = (range: LaneRange) => {
      running++;
      void (async () => {
        try {
          for await (const page of walkLane(fetchPage, range, signal)) {
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
    };
    let tailStarted = whole;
    if (!whole) {
      // A short probe gives no reason to expect much below it: one lane, not `lanes` empty pages.
      for (const range of laneRanges(minId - 1, top.length < PAGE_SIZE ? 1 : lanes)) launch(range);
    }
    for (;;) {
      if (failure) throw failure.error;
      const page = queue.shift();
      if (page) {
        const items = fresh(page);
        if (items.length) yield items;
        continue;
      }
      if (running === 0) {
        if (tailStarted) return;
        // Started only after every bounded lane is done, so it sees whatever was created while
        // any of them was still reading — the whole walk, not just until the first lane ended.
        tailStarted = true;
        launch({ lo: maxId });
        continue;
      }
      await new Promise<void>((resolve) => (wake = resolve));
    }
  } finally {
    // The consumer stopped early or something failed: stop the lanes' requests too.
    if (!stop.signal.aborted) stop.abort(new Error('pagination stopped'));
  }
}
