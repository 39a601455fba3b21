/**
 * Keyset pagination over an index endpoint, in id order.
 *
 * Every page asks for `order_by=id&limit=50` and the ids past the last one seen (`id[gt]` going
 * up, `id[lt]` going down). Unlike offsets, a cursor on id cannot be shifted by records created,
 * deactivated or removed while we read: a record that exists for the whole walk is returned once,
 * whatever happens around it. Items are also deduplicated by id, so a server that repeats one
 * across pages cannot produce a duplicate.
 *
 * With `lanes > 1` the walk is built so that a dense list costs exactly ceil(n/50) pages while
 * still reading the records created during the walk:
 * 1. A probe reads ranks 51..100 from the top (`dir=desc&offset=50`): real data, whose largest id
 *    `p51` has exactly 50 records above it, and whose smallest id bounds the rest.
 * 2. Below the probe, bounded lanes whose widths are multiples of the page size, walked
 *    concurrently. A lane stops when a page reaches its bound, or comes back empty, or short with
 *    its last id at the bound (a short page below the bound is followed up, in case the server caps
 *    pages below 50).
 * 3. Last, once every lane is done, the top is read downwards from the highest id
 *    (`dir=desc&id[gt]=p51`). This one read both finishes the list and is the check for
 *    creations: it stops when its lowest id touches p51 (no id can lie between), or on an empty
 *    page. Records created meanwhile sit above every older id, so they push the top page's lowest
 *    id up and the walk goes on down until the gap is closed.
 * Why not read the top first: a walk that has already read the highest id can only learn that
 * nothing was created after it from one more page, and when n is a multiple of 50 that page is
 * all extra. Reading the top last makes the check a page the list needed anyway.
 *
 * `topFirst` is for lists where a record created mid-walk may wait for the next sync: the top page
 * is the probe (or, with one lane, the walk goes down from it), and nothing is read above it.
 */

export const PAGE_SIZE = 50;

export interface PageRequest {
  /** Query parameters for this page (ordering, limit, cursor, bounds), merged over the caller's. */
  query: Record<string, string>;
  /** Shown in errors: "id > 150", "0 < id <= 250", "probe", "top, id > 950". */
  label: string;
  signal: AbortSignal;
}

export type PageFetcher<T extends { id: number }> = (req: PageRequest) => Promise<T[]>;

export interface PaginateOptions {
  lanes?: number;
  /**
   * Start from the top page and read only what lies below it (default false). A list of exactly 50
   * records with ids 1..50 costs one page, and with lanes the top page is the probe; but a record
   * created after the top page was read is left for the next sync. Without it, records created
   * during the walk are read too (see the module comment).
   */
  topFirst?: boolean;
  /**
   * Called once with lanes or `topFirst`, after the first page that shows the top of the list: an
   * estimate of the item count (`p51 + 50` with the lanes' probe, else the largest id).
   */
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

/**
 * One lane, upwards. `fullAt`: the page size that counts as full. PAGE_SIZE, except for the look
 * above the top walk, where a server seen capping pages below 50 makes its cap the full size;
 * else a capped page would end that open-ended walk at once.
 */
async function* walkLane<T extends { id: number }>(
  fetchPage: PageFetcher<T>,
  range: LaneRange,
  signal: AbortSignal,
  fullAt = PAGE_SIZE,
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
    checkOrder(asked, 'asc', label);
    if (asked.length === 0 && page.some((item) => item.id < cursor)) {
      // Nothing asked for, and ids below the cursor: the server ignores id[gt] (under a cap too),
      // and going on would loop forever on the same page, stopping drop the rest. The cursor's own
      // record alone is a sloppy boundary repeat; ids above the bound alone, an empty range.
      throw stuck(label, cursor);
    }
    yield asked;
    // Nothing new in range (an empty page, or only a repeat or another lane's record): done.
    if (asked.length === 0) return;
    const last = asked.reduce((m, item) => Math.max(m, item.id), -Infinity);
    if (page.length < Math.min(PAGE_SIZE, fullAt)) {
      // A short page ends the range unless it stopped below the lane's bound: then the server caps
      // pages below 50, and stopping would silently drop the rest. With dense ids this never costs
      // a request.
      if (range.hi === undefined || last >= range.hi) return;
      cursor = last;
      continue;
    }
    if (range.hi !== undefined && last >= range.hi) return;
    cursor = last;
  }
}

interface TopWalk {
  /** Exclusive lower bound: the walk reads ids > floor, and is done when it touches it. */
  floor: number;
  /** Look above the first page once more if the walk took several pages. */
  recheckTop: boolean;
  onEstimate?: (approxTotal: number) => void;
}

/**
 * Reads the ids above `floor` from the highest down, until the lowest id read touches `floor` (no
 * id can lie between) or a page comes back empty. A short page that stops above `floor` is
 * followed up, as in a lane: the server may cap pages below 50.
 *
 * With `recheckTop`, when that took more than one page (records were created meanwhile, or ids are
 * sparse), records created after the first page would sit above it unseen: an open-ended walk up
 * from its highest id reads them, so that, as with a plain ascending walk, only what is created
 * during the very last request can be missed.
 */
async function* walkTop<T extends { id: number }>(
  fetchPage: PageFetcher<T>,
  { floor, recheckTop, onEstimate }: TopWalk,
  signal: AbortSignal,
): AsyncGenerator<T[]> {
  let cursor: number | undefined;
  let highest = floor;
  let most = 0;
  for (let pages = 1; ; pages++) {
    const query: Record<string, string> = { order_by: 'id', dir: 'desc', limit: String(PAGE_SIZE) };
    if (floor > 0) query['id[gt]'] = String(floor);
    if (cursor !== undefined) query['id[lt]'] = String(cursor);
    const label = cursor === undefined ? `top, id > ${floor}` : `top, ${floor} < id < ${cursor}`;
    const page = await fetchPage({ query, label, signal });
    const asked = page.filter((item) => item.id > floor && (cursor === undefined || item.id < cursor));
    checkOrder(asked, 'desc', label);
    most = Math.max(most, page.length);
    if (cursor === undefined) {
      highest = asked.reduce((m, item) => Math.max(m, item.id), floor);
      onEstimate?.(highest);
    }
    yield asked;
    if (asked.length === 0 && cursor !== undefined && page.some((item) => item.id > cursor!)) {
      // Nothing asked for, and ids above the cursor: the server ignores id[lt] (under a cap too),
      // and going on would loop forever on the same page; stopping would drop the rest. The
      // cursor's own record alone is a sloppy boundary repeat.
      throw stuck(label, cursor);
    }
    const lowest = asked.reduce((m, item) => Math.min(m, item.id), Infinity);
    if (asked.length === 0 || lowest <= floor + 1) {
      if (recheckTop && pages > 1) yield* walkLane(fetchPage, { lo: highest }, signal, Math.max(1, most));
      return;
    }
    cursor = lowest;
  }
}

/**
 * Ids out of the order asked for (within what was asked): a server ignoring `dir` or `order_by`
 * would otherwise make every cursor and bound wrong, and lose most of a list without a word.
 * Equal neighbours are a repeated record, removed later, not a wrong order.
 */
function checkOrder(items: ReadonlyArray<{ id: number }>, dir: 'asc' | 'desc', label: string): void {
  for (let i = 1; i < items.length; i++) {
    const [a, b] = [items[i - 1]!.id, items[i]!.id];
    if (dir === 'asc' ? b < a : b > a) {
      throw new PaginationError(
        label,
        `the page is not in ${dir === 'asc' ? 'ascending' : 'descending'} id order; the server ignores dir or order_by=id, so pages cannot be chained without losing records`,
        'id',
      );
    }
  }
}

/**
 * A page the walk cannot chain from without losing records: the server ignores a cursor, `dir`
 * or `limit`. `problem` says what was seen and what the server seems to ignore; `field` is the
 * query parameter at fault, for the client's validation error.
 */
export class PaginationError extends Error {
  constructor(
    readonly label: string,
    readonly problem: string,
    readonly field: 'id' | 'limit',
  ) {
    super(`page (${label}): ${problem}`);
  }
}

function stuck(label: string, cursor: number): PaginationError {
  return new PaginationError(
    label,
    `the page did not advance past id ${cursor}; the server ignores the id[gt]/id[lt] filters or order_by=id`,
    'id',
  );
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
      const walk = opts.topFirst
        ? walkTop(fetchPage, { floor: 0, recheckTop: false, onEstimate: opts.onEstimate }, signal)
        : walkLane(fetchPage, { lo: 0 }, signal);
      for await (const page of walk) {
        const items = fresh(page);
        if (items.length) yield items;
      }
      return;
    }

    const probe = await fetchPage({
      query: {
        order_by: 'id',
        dir: 'desc',
        ...(opts.topFirst ? {} : { offset: String(PAGE_SIZE) }),
        limit: String(PAGE_SIZE),
      },
      label: 'probe',
      signal,
    });
    if (probe.length > PAGE_SIZE) {
      // The probe's "exactly 50 above" would no longer hold.
      throw new PaginationError(
        'probe',
        `the server returned ${probe.length} records for limit=${PAGE_SIZE}; it ignores limit, so pages cannot be chained without losing records`,
        'limit',
      );
    }
    checkOrder(probe, 'desc', 'probe');
    const ids = probe.map((item) => item.id);
    const probeMax = Math.max(0, ...ids);
    const probeMin = Math.min(probeMax, ...ids);
    let last: (() => AsyncGenerator<T[]>) | undefined;
    if (opts.topFirst) {
      // The probe is the top page: what lies below it is all there is left.
      opts.onEstimate?.(probeMax);
    } else {
      // The probe's largest id has exactly PAGE_SIZE records above it; an empty probe means the
      // whole list fits in the top page.
      if (probe.length) opts.onEstimate?.(probeMax + PAGE_SIZE);
      // Started only after every bounded lane is done, so it sees whatever was created while any
      // of them was still reading: the whole walk, not just until the first lane ended.
      const onEstimate = probe.length ? undefined : opts.onEstimate;
      last = () => walkTop(fetchPage, { floor: probeMax, recheckTop: true, onEstimate }, signal);
    }

    const queue: T[][] = [probe];
    let failure: { error: unknown } | undefined;
    let running = 0;
    let wake: (() => void) | undefined;
    const notify = () => {
      const w = wake;
      wake = undefined;
      w?.();
    };
    const launch = (walk: AsyncGenerator<T[]>) => {
      running++;
      void (async () => {
        try {
          for await (const page of walk) {
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
    // Below the probe's smallest id; nothing when it reached id 1 or was empty. A short probe that
    // stopped above id 1 may come from a server capping pages below 50, so what lies below is
    // confirmed, in one lane (an honest answer costs one empty page, not `lanes` of them).
    for (const range of laneRanges(probeMin - 1, probe.length < PAGE_SIZE ? 1 : lanes)) {
      launch(walkLane(fetchPage, range, signal));
    }
    for (;;) {
      if (failure) throw failure.error;
      if (running === 0 && last) {
        // As soon as the lanes are done, not once their pages are consumed.
        launch(last());
        last = undefined;
      }
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
