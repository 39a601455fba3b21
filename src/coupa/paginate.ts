/**
 * Reads a whole index endpoint at the rate limit, whatever the latency and the id layout: one walk
 * for every list. See docs/client.md, "Pagination".
 *
 * The walk keeps a map of the id axis: which intervals are known to be read completely ("covered")
 * and which are still gaps. Every page it asks for is in id order (`order_by=id`), so the records a
 * page returns were consecutive in that order when the server answered: a page [min…max] covers
 * every id from min to max, and a page read from a cursor (`id[gt]=a`) covers (a, max]. The walk is
 * done when the coverage has no gap. That alone makes it complete under drift: a record that exists
 * for the whole walk lies in some covered interval, and the page that covered it was answered while
 * the record existed, so the page holds it. Nothing depends on the order the server answers in.
 *
 * What makes it cheap and fast:
 * - **Offset pages ("seeds") inside gaps.** `id[gt]=a&offset=o` lands 50 records at a rank the walk
 *   chooses, so pages can be asked for in parallel without knowing the ids, and every page is full.
 *   Seeds sit 50·s − 1 ranks apart, so the keyset pages ("chains") walking up from one seed end
 *   exactly on the first record of the next: one record read twice per s pages (s = 2 or more on
 *   long lists: ≤ 1%), and the overlap is what proves the junction has no hole.
 * - **How many in flight: Little's law.** A request goes out when the client's rate limiter has a
 *   slot for it, not before, so nothing queues in the limiter and the walk decides each request
 *   with everything it knows at that moment. In flight settles at rate × latency by itself.
 * - **Gaps are sized from the ids.** A gap's record count is estimated from the id density of the
 *   pages around it; seeds are placed only up to 90% of it, and the rest is re-seeded once those
 *   answers narrow it down, so long runs of holes or very large ids cost a page at most, not a lane.
 * - **The top first, creations last.** The first page is the top (`dir=desc`): a list of up to 49
 *   records costs that one page. A longer list ends with one read above the highest id seen at the
 *   start (`id[gt]=T`), which picks up records created meanwhile (Coupa ids only grow).
 *
 * Protections against servers that misbehave: pages out of the order asked for, more records than
 * `limit`, a cursor that does not advance, are errors, never a silently short list. A short page
 * ends a gap only once this server has been seen to return a full page of 50 (PageEvidence), so a
 * server capping pages below 50 costs requests, never records.
 */

import { setMaxListeners } from 'node:events';

export const PAGE_SIZE = 50;

export interface PageRequest {
  /** Query parameters for this page (ordering, limit, cursor, bounds, offset), merged over the caller's. */
  query: Record<string, string>;
  /** Shown in errors: "top", "id > 150", "id > 150, offset 99". */
  label: string;
  signal: AbortSignal;
}

export type PageFetcher<T extends { id: number }> = (req: PageRequest) => Promise<T[]>;

/** The client's rate limiter, as the walk sees it. */
export interface Pace {
  /** Milliseconds until the limiter would let a request go without waiting (0 = now). */
  wait(): number;
  /** Requests the limiter would let go now, back to back (when absent: 1 if wait() is 0). */
  slots?(): number;
  /** Sustained requests per second. */
  readonly perSecond: number;
  /**
   * Requests the client had to retry so far (429, 5xx, connections dropped): when it grows, the
   * server is struggling, and the walk halves what it keeps in flight (then grows it back slowly).
   */
  retries?(): number;
}

/**
 * What this client has learnt about the server's pages, shared by every walk of one client: a
 * short page can only be trusted to mean "nothing more" once the server has returned a full page
 * (a server capping pages at 25 never does). Walks that end on an untrusted short page wait here
 * while another walk of the same client may still bring the proof.
 */
export class PageEvidence {
  private fullPages = 0;
  private capSeen = false;
  private active = 0;
  private paused = 0;
  private waiting: Array<(trusted: boolean) => void> = [];

  get trusted(): boolean {
    return this.fullPages > 0 && !this.capSeen;
  }

  /** A page of exactly `limit` records arrived. */
  full(): void {
    this.fullPages++;
    this.settle();
  }

  /** A short page turned out not to be the end: the server caps pages. */
  capped(): void {
    this.capSeen = true;
    this.settle();
  }

  enter(): void {
    this.active++;
  }

  /** A walk handed a page to its caller and waits to be asked for more: it can show nothing meanwhile. */
  pause(): void {
    this.paused++;
    this.settle();
  }

  resume(): void {
    this.paused--;
  }

  leave(): void {
    this.active--;
    this.settle();
  }

  /**
   * Resolves true once short pages can be trusted, false once no other walk of this client is left
   * to show it (then the caller confirms its short page with a request).
   */
  verdict(): Promise<boolean> {
    if (this.trusted || this.capSeen) return Promise.resolve(this.trusted);
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      this.settle();
    });
  }

  private settle(): void {
    if (!this.waiting.length) return;
    if (this.trusted || this.capSeen || this.waiting.length + this.paused >= this.active) {
      const waiting = this.waiting;
      this.waiting = [];
      for (const w of waiting) w(this.trusted);
    }
  }
}

export interface PaginateOptions {
  /** The client's rate limiter; without it, at most `maxInFlight` requests at once. */
  pace?: Pace;
  /** Ceiling on requests in flight (default 128 with a pace, 8 without). */
  maxInFlight?: number;
  evidence?: PageEvidence;
  /**
   * An estimate of the item count: first when the walk knows both ends of the list, then again
   * whenever what it has read since moves the estimate by more than 5% (sparse ids fool the first).
   */
  onEstimate?: (approxTotal: number) => void;
  signal?: AbortSignal;
  /** Walk figures, for benchmarks: requests by kind, most requests in flight. */
  stats?: WalkStats;
  /**
   * Look above the highest id of the top page at the end, for records created during the walk
   * (default true). Costs one request on a list longer than one page; lists whose late records
   * reach the sync another way (groups and roles held by a user come with the user) skip it.
   */
  watchCreations?: boolean;
  /**
   * Ask for the bottom page together with the top one (default false). The walk needs both ends
   * before it can size the list, so on a list that is rarely shorter than a page (users) this
   * saves a round trip; on a list of up to 49 records it costs one request.
   */
  bothEnds?: boolean;
  /**
   * Called once, when the walk has asked for everything it expects to need: what is left is the
   * answers on their way, and whatever a surprise in them calls for (a page that is not where it
   * was planned, records created meanwhile). A caller with work of its own for the end (the sync
   * builds its indexes) can do it during that last wait instead of after it.
   */
  onAllAsked?: () => void;
}

export interface WalkStats {
  requests: number;
  top: number;
  chains: number;
  seeds: number;
  above: number;
  emptySeeds: number;
  maxInFlight: number;
}

export function newWalkStats(): WalkStats {
  return { requests: 0, top: 0, chains: 0, seeds: 0, above: 0, emptySeeds: 0, maxInFlight: 0 };
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

/** Ids are integers, so [min, max] is the half-open (min − 1, max]. */
type Interval = [lo: number, hi: number];

/**
 * Disjoint half-open intervals (lo, hi] over the id axis, merged as they touch. Also remembers which
 * ids were read, so that a gap's upper end can be asked for inclusively (its anchor).
 */
class Coverage {
  readonly parts: Interval[] = [];

  add(lo: number, hi: number): void {
    if (!(hi > lo)) return;
    const out: Interval[] = [];
    let merged: Interval = [lo, hi];
    let placed = false;
    for (const p of this.parts) {
      if (p[1] < merged[0]) out.push(p);
      else if (p[0] > merged[1]) {
        if (!placed) out.push(merged);
        placed = true;
        out.push(p);
      } else merged = [Math.min(p[0], merged[0]), Math.max(p[1], merged[1])];
    }
    if (!placed) out.push(merged);
    this.parts.splice(0, this.parts.length, ...out);
  }

  /** The gaps below `top`: (lo, hi] with hi + 1 the lowest id of the covered part above. */
  gaps(top: number): Interval[] {
    const out: Interval[] = [];
    let lo = 0;
    for (const [a, b] of this.parts) {
      if (a > lo) out.push([lo, Math.min(a, top)]);
      lo = Math.max(lo, b);
      if (lo >= top) break;
    }
    if (lo < top) out.push([lo, top]);
    return out.filter(([a, b]) => b > a);
  }
}

interface Job {
  kind: 'top' | 'bottom' | 'chain' | 'seed' | 'above';
  lo: number;
  /** Inclusive upper bound asked for (the gap's anchor record); undefined = open above. */
  hi?: number;
  offset: number;
  label: string;
}

/**
 * Seeds for one gap (lo, hi]: pages at offsets k·stride from lo. Offsets up to `confirmed` are known
 * to hold records and are filled in freely; beyond it, probes find where the gap ends (nextSeed),
 * so that a wrong size estimate costs an empty page or two, not a whole round of them.
 */
interface Plan {
  lo: number;
  hi: number;
  stride: number;
  /** Largest offset known to hold a page of records (0: none yet). */
  confirmed: number;
  /** Smallest offset known to be past the end of the gap. */
  upper: number;
  /** Next offset to fill in (a multiple of stride). */
  nextFill: number;
  /** Probes out (offsets past `confirmed`), and those chosen but not yet sent. */
  probes: Set<number>;
  queued: number[];
  /** Offsets asked for whose answer is not back yet, and those back. */
  pending: Set<number>;
  done: Set<number>;
  /** Rank (from lo, 0-based) of ids at the ends of the pages read inside the plan; lo itself is -1. */
  rank: Map<number, number>;
  /** Highest id of the page at `confirmed`: with it, ids per record over the gap so far. */
  confirmedMax?: number;
  /** Records the gap was estimated to hold when planned (from the pages next to it). */
  estimate: number;
  /**
   * Strides the next probe goes past what is confirmed at least, while the end is not bracketed:
   * doubled each time the estimate of the end has moved up by more than a stride since the last
   * probe (it keeps falling short, as when the ids ahead are denser than those behind), back to 1
   * when it holds. Without it, such an estimate costs a round trip per page near the end.
   */
  step: number;
  /** The estimate of the end (in ranks) when the last probe was placed. */
  lastEnd?: number;
}

/**
 * Ids per record over everything a plan has read in its gap (runs of holes included), from its
 * start to the highest id of the page at `confirmed`; undefined before that page is in.
 */
function idsPerRecord(p: Plan): number | undefined {
  if (p.confirmedMax === undefined || p.confirmed === 0) return undefined;
  return (p.confirmedMax - p.lo) / (p.confirmed + PAGE_SIZE);
}

/** Median distance between consecutive ids of a page: robust to one huge id in it. */
function medianGap(ids: number[]): number | undefined {
  if (ids.length < 2) return undefined;
  const sorted = [...ids].sort((a, b) => a - b);
  const gaps = sorted.slice(1).map((id, i) => id - sorted[i]!);
  gaps.sort((a, b) => a - b);
  return Math.max(1, gaps[Math.floor(gaps.length / 2)]!);
}

export async function* paginateById<T extends { id: number }>(
  fetchPage: PageFetcher<T>,
  opts: PaginateOptions = {},
): AsyncGenerator<T[]> {
  const stop = new AbortController();
  const signal = opts.signal ? AbortSignal.any([opts.signal, stop.signal]) : stop.signal;
  const evidence = opts.evidence ?? new PageEvidence();
  const stats = opts.stats ?? newWalkStats();
  const pace = opts.pace;
  const maxInFlight = Math.max(1, opts.maxInFlight ?? (pace ? 128 : 8));
  // Every request out listens on this signal; at 25 req/s × 2 s that is some 60 listeners, which
  // is the design, not a leak: without this Node prints a MaxListenersExceededWarning on stderr.
  // (The 10 more are the default allowance, for the caller's own listeners on its signal.)
  setMaxListeners(maxInFlight + 10, signal);

  const seen = new Set<number>();
  const coverage = new Coverage();
  /** Id spans and median id gaps of the pages read, to size the gaps next to them. */
  const spans: Array<{ min: number; max: number; gap: number }> = [];
  const ready: T[][] = [];
  let failure: { error: unknown } | undefined;
  const rethrow = () => {
    if (failure) throw failure.error;
  };
  let inFlight = 0;
  let wake: (() => void) | undefined;
  const notify = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };

  /** The highest id of the top page, read first: the walk covers (0, top], then looks above. */
  let top = 0;
  /** The lowest id of the top page. */
  let topMin = 0;
  /**
   * The bottom page, asked for before the top is known, so without an upper bound: what it covers
   * is settled once the top page is in (applyBottom).
   */
  let bottom: { max: number; endsHere: boolean } | undefined;
  let topRead = false;
  let topShort = false;
  let aboveDone = false;
  let aboveFrom: number | undefined;
  let aboveInFlight = false;
  let verdictAsked = false;
  let verdictSettled = false;
  /** Pages read but not yet taken by the caller: the walk stops asking for more beyond this. */
  const maxReady = 2 * maxInFlight;
  let paceTimer: ReturnType<typeof setTimeout> | undefined;
  let finished = false;
  let latencyMs = 0;
  let latencySamples = 0;
  let uselessSeeds = 0;
  /**
   * Seeds this walk may still see come back empty: one, plus one per 100 pages read (half of the
   * 2% over the floor that issue 12 allows). A probe past the end of a gap saves round trips; a
   * chain never wastes a request. Once none is left, chains close what remains.
   */
  let misses = 0;
  const missesLeft = () => 1 + Math.floor(seen.size / (100 * PAGE_SIZE)) - misses;
  const probing = () => missesLeft() > 0;
  let seedingOff = false;
  const chainsFrom = new Set<number>();
  const plans: Plan[] = [];
  /** Gaps already sized (planned, or too small for seeds): "lo:hi". */
  const sized = new Set<string>();

  /** The plan a seed belongs to (gone once the plan is finished). */
  const planOf = (job: Job): Plan | undefined => plans.find((p) => p.lo === job.lo && p.hi === job.hi);

  const fresh = (page: T[]): T[] =>
    page.filter((item) => {
      if (seen.has(item.id)) return false;
      seen.add(item.id);
      return true;
    });

  const queryOf = (job: Job): Record<string, string> => {
    const q: Record<string, string> = {
      order_by: 'id',
      dir: job.kind === 'top' ? 'desc' : 'asc',
      limit: String(PAGE_SIZE),
    };
    if (job.lo > 0) q['id[gt]'] = String(job.lo);
    if (job.hi !== undefined) q['id[lt_or_eq]'] = String(job.hi);
    if (job.offset > 0) q.offset = String(job.offset);
    return q;
  };

  const inside = (job: Job) => (r: { id: number }) =>
    r.id > job.lo && (job.hi === undefined || r.id <= job.hi);

  /** What one page tells about the id axis. */
  const learn = (job: Job, raw: T[]): void => {
    // Only records inside what was asked for count: one outside (a repeat of the cursor's record,
    // a record past the bound) must not move any boundary.
    let asked = raw.filter(inside(job));
    const dir = job.kind === 'top' ? 'desc' : 'asc';
    if (asked.length > PAGE_SIZE || !inOrder(asked, dir)) {
      // A sloppy server that repeats a record read before (on top of a full page, or out of
      // place): drop the repeats, then judge the page.
      asked = asked.filter((r) => !seen.has(r.id));
    }
    if (asked.length > PAGE_SIZE) {
      throw new PaginationError(
        job.label,
        `the server returned ${raw.length} records for limit=${PAGE_SIZE}; it ignores limit, so pages cannot be chained without losing records`,
        'limit',
      );
    }
    checkOrder(asked, dir, job.label);
    // Nothing asked for and a page of records below the cursor: the server ignores id[gt], and
    // asking again would loop forever. (One record below alone is a sloppy repeat.)
    if (asked.length === 0 && job.offset === 0 && raw.filter((r) => r.id <= job.lo).length >= 2)
      throw stuck(job.label, job.lo);
    if (raw.length === PAGE_SIZE) evidence.full();
    let min = Infinity;
    let max = -Infinity;
    for (const r of asked) {
      if (r.id < min) min = r.id;
      if (r.id > max) max = r.id;
    }
    if (asked.length > 1) spans.push({ min, max, gap: medianGap(asked.map((r) => r.id))! });
    const short = raw.length < PAGE_SIZE;
    const endsHere = short && evidence.trusted;

    switch (job.kind) {
      case 'top':
        topRead = true;
        if (!asked.length) {
          aboveDone = true; // an empty list, whatever the server's page size
          return;
        }
        top = max;
        topMin = min;
        coverage.add(min - 1, max);
        // A short top page is the whole list (confirmed below it unless the server is known to
        // send full pages), and the walk's only read: nothing to look above.
        if (short) aboveDone = topShort = true;
        if (opts.watchCreations === false) aboveDone = true;
        if (endsHere) coverage.add(0, max);
        applyBottom();
        return;
      case 'bottom':
        if (asked.length) bottom = { max, endsHere };
        applyBottom();
        return;
      case 'above':
        if (!asked.length || endsHere) aboveDone = true;
        else aboveFrom = max;
        return;
      case 'chain':
        if (asked.length) {
          for (const p of plans) {
            const r = p.lo === job.lo ? -1 : p.rank.get(job.lo);
            if (r !== undefined) p.rank.set(max, r + asked.length);
          }
        }
        // An empty keyset page is proof that (lo, hi] is empty whatever the server's page size.
        if (!asked.length || endsHere) coverage.add(job.lo, job.hi!);
        else coverage.add(job.lo, max);
        return;
      case 'seed':
        if (!asked.length) {
          stats.emptySeeds++;
          misses++;
          const p = planOf(job);
          if (p) p.upper = Math.min(p.upper, job.offset);
          return;
        }
        {
          const p = planOf(job);
          p?.rank.set(min, job.offset);
          p?.rank.set(max, job.offset + asked.length - 1);
          if (p && (raw.length === PAGE_SIZE || !evidence.trusted) && job.offset > p.confirmed) {
            p.confirmed = job.offset;
            p.confirmedMax = max;
          } else if (p && raw.length < PAGE_SIZE) {
            // The end of the gap is in this page: everything below it holds records, nothing above.
            p.upper = Math.min(p.upper, job.offset + 1);
            p.confirmed = Math.max(p.confirmed, job.offset);
          }
        }
        // A seed whose records were all read already: the server may ignore offset.
        if (asked.every((r) => seen.has(r.id)) && ++uselessSeeds >= 2) seedingOff = true;
        coverage.add(min - 1, endsHere ? job.hi! : max);
        return;
    }
  };

  /**
   * (0, max] of the bottom page is read, but no further than the top page's lowest id: a page asked
   * for without an upper bound cannot show that a record in it is out of place (a stale record from
   * near the top would otherwise claim every id below it as read). Nothing is lost by the cap: the
   * top page covers from its lowest id up. A short bottom page is the whole list.
   */
  const applyBottom = (): void => {
    if (!bottom || !topRead) return;
    coverage.add(0, bottom.endsHere ? Math.max(bottom.max, top) : Math.min(bottom.max, topMin));
    bottom = undefined;
  };

  /**
   * The ranks of a gap's two ends inside the plan that read both (lo itself is -1 at the plan's
   * start). Ranks out of order (records deleted between the answers that set them) prove nothing.
   */
  const rankedSpan = (lo: number, hi: number): { plan: Plan; from: number; to: number } | undefined => {
    for (const plan of plans) {
      const from = plan.lo === lo ? -1 : plan.rank.get(lo);
      const to = plan.rank.get(hi);
      if (from !== undefined && to !== undefined && to > from) return { plan, from, to };
    }
    return undefined;
  };

  /**
   * Records expected strictly between lo and hi. Inside a plan whose seeds put both ends at known
   * ranks, the difference of the ranks (exact unless a record was deleted meanwhile); else from the
   * density of the pages nearest to them.
   */
  const estimate = (lo: number, hi: number): number | undefined => {
    if (lo === 0) return undefined; // the list may start anywhere: wait for the bottom page
    const ranked = rankedSpan(lo, hi);
    if (ranked) return ranked.to - ranked.from - 1;
    let below: { gap: number; d: number } | undefined;
    let above: { gap: number; d: number } | undefined;
    for (const s of spans) {
      if (s.max <= lo && (!below || lo - s.max < below.d)) below = { gap: s.gap, d: lo - s.max };
      if (s.min >= hi && (!above || s.min - hi < above.d)) above = { gap: s.gap, d: s.min - hi };
    }
    const gaps = [below?.gap, above?.gap].filter((g): g is number => g !== undefined);
    if (!gaps.length) return undefined;
    // The sparser side: a run of holes next to the gap must not make it look bigger than it is.
    return Math.floor((hi - lo - 1) / Math.max(...gaps));
  };

  // Additive increase, multiplicative decrease on retries: Little's law gives what the rate limit
  // needs, this keeps a struggling server from being asked for more than it answers.
  let backoffCap = maxInFlight;
  let lastRetries = pace?.retries?.() ?? 0;
  const noteAnswer = () => {
    const r = pace?.retries?.() ?? 0;
    if (r > lastRetries) backoffCap = Math.max(2, Math.floor(Math.min(backoffCap, inFlight + 1) / 2));
    else backoffCap = Math.min(maxInFlight, backoffCap + 1 / backoffCap);
    lastRetries = r;
  };

  const targetInFlight = (): number => {
    if (!pace) return maxInFlight;
    // Little's law, with slack for the spread of latencies and at least 2, so that one slow page
    // never idles the walk.
    const l = latencySamples ? latencyMs : 250;
    return Math.max(2, Math.min(Math.floor(backoffCap), Math.ceil(pace.perSecond * (l / 1000) * 1.25) + 1));
  };

  /** Pages per seed: 2 on walks much longer than what is in flight (half the overlap), else 1. */
  const segment = (pages: number): number => (pages >= 4 * targetInFlight() ? 2 : 1);

  /** No seed left to ask for: the end is found and filled in, or nothing in its range is open. */
  const planDone = (p: Plan) =>
    (p.probes.size === 0 &&
      !p.queued.length &&
      p.nextFill > p.confirmed &&
      (p.upper - p.confirmed <= p.stride || !probing())) ||
    !coverage.gaps(top).some(([lo, end]) => lo < p.hi && end + 1 > p.lo);

  const planSeeds = (): void => {
    if (seedingOff) return;
    for (let i = plans.length - 1; i >= 0; i--) {
      const p = plans[i]!;
      // Finished plans go once no gap starts inside them any more (their ranks are no longer needed).
      if (planDone(p) && !p.pending.size && !coverage.gaps(top).some(([lo]) => lo >= p.lo && lo < p.hi))
        plans.splice(i, 1);
    }
    for (const [lo, end] of coverage.gaps(top)) {
      const hi = end + 1; // the anchor: the lowest record of what is covered above the gap
      const key = `${lo}:${hi}`;
      if (sized.has(key)) continue;
      // Inside a plan's range, its own chains close what its seeds leave open.
      if (plans.some((p) => p.lo < hi && p.hi > lo)) continue;
      const count = estimate(lo, hi);
      if (count === undefined) continue;
      sized.add(key);
      if (count < 2 * PAGE_SIZE) continue; // a chain or two
      const stride = PAGE_SIZE * segment(Math.ceil(count / PAGE_SIZE)) - 1;
      plans.push({
        lo,
        hi,
        stride,
        confirmed: 0,
        upper: Infinity,
        nextFill: stride,
        pending: new Set(),
        done: new Set(),
        rank: new Map(),
        estimate: count,
        step: 1,
        probes: new Set(),
        queued: [],
      });
    }
  };

  /**
   * The next seed of a plan: fill in what is known to exist, else probe past it. Until the end of
   * the gap is bracketed, one probe at a time runs ahead; once a probe has come back empty, a few
   * probes at once split what is left (as many as the walk may still miss), since by then the
   * limiter is mostly idle and every round trip counts.
   */
  const nextSeed = (p: Plan): number | undefined => {
    if (planDone(p)) return undefined;
    while (p.nextFill <= p.confirmed && p.nextFill < p.upper) {
      const o = p.nextFill;
      p.nextFill += p.stride;
      if (!p.done.has(o) && !p.pending.has(o)) return o;
    }
    while (p.queued.length) {
      const o = p.queued.shift()!;
      if (o > p.confirmed && o < p.upper && !p.done.has(o) && !p.pending.has(o)) {
        p.probes.add(o);
        return o;
      }
    }
    if (p.probes.size || p.upper - p.confirmed <= p.stride || !probing()) return undefined;
    const onGrid = (target: number) =>
      p.confirmed +
      Math.max(1, Math.floor((Math.min(target, p.upper - 1) - p.confirmed) / p.stride)) * p.stride;
    if (p.upper !== Infinity) {
      const parts = Math.min(3, missesLeft()) + 1;
      for (let i = 1; i < parts; i++) {
        const o = onGrid(p.confirmed + ((p.upper - p.confirmed) * i) / parts);
        if (o < p.upper && !p.queued.includes(o)) p.queued.push(o);
      }
      return nextSeed(p);
    }
    // Far enough ahead that filling in behind the probe keeps the pipeline busy for a round trip.
    let target = p.confirmed + Math.max(4 * (p.confirmed + p.stride), 2 * targetInFlight() * p.stride);
    // The first probe stays near the start of the gap. The estimate comes from the ids at both ends
    // and cannot see runs of holes in between (on a real tenant it can be 20 times too high), so a
    // probe placed by it would often come back empty; the ids this one returns are the first
    // measure of the gap's own density, holes included.
    if (p.confirmed === 0)
      target = Math.min(target, Math.max(p.stride, Math.min(0.9 * p.estimate - PAGE_SIZE, 4 * p.stride)));
    const perRecord = idsPerRecord(p);
    if (perRecord !== undefined && p.confirmedMax !== undefined) {
      // Where the ids seen so far put the end of the gap (ids per record over everything read in
      // it, so runs of holes count): just below it, so that the probe is likely full; but at least
      // `step` strides on, since that estimate can keep falling short.
      const end = p.confirmed + PAGE_SIZE + (p.hi - p.confirmedMax) / Math.max(perRecord, 1e-9);
      if (p.lastEnd !== undefined) p.step = end > p.lastEnd + p.stride ? Math.min(2 * p.step, 64) : 1;
      p.lastEnd = end;
      target = Math.min(target, Math.max(p.confirmed + p.step * p.stride, end - PAGE_SIZE));
      // The ids bound what is left: at most hi − confirmedMax − 1 records lie above the confirmed
      // page. Near the end of a gap that bound can be far below where `step` sends the probe, which
      // would then be empty for sure. Between the density's guess and that bound, the probe goes
      // to their geometric mean: the guess falls short when runs of holes lie behind, the bound is
      // far too high when they lie ahead, and either way a probe there is off by the same factor.
      const most = p.hi - p.confirmedMax - 1;
      const likely = Math.max(1, end - PAGE_SIZE - p.confirmed);
      target = Math.min(target, p.confirmed + Math.min(most, Math.sqrt(likely * most)));
    }
    const o = onGrid(target);
    if (o <= p.confirmed) return undefined;
    p.probes.add(o);
    return o;
  };

  /**
   * The requests out will close the gap (lo, hi) if they come back as planned: inside a plan, where
   * both ends have known ranks, the pending seeds and the chain from lo together span every rank in
   * between; elsewhere, a chain is out from lo and the gap looks no longer than a page.
   */
  const spokenFor = (lo: number, hi: number): boolean => {
    const ranked = rankedSpan(lo, hi);
    if (ranked) {
      const { plan, from, to } = ranked;
      const pieces = [...plan.pending].map((o): Interval => [o, o + PAGE_SIZE - 1]);
      if (chainsFrom.has(lo)) pieces.push([from + 1, from + PAGE_SIZE]);
      pieces.sort((a, b) => a[0] - b[0]);
      let next = from + 1;
      for (const [a, b] of pieces) {
        if (a > next) break;
        next = Math.max(next, b + 1);
      }
      return next >= to;
    }
    if (!chainsFrom.has(lo)) return false;
    const c = estimate(lo, hi);
    return c !== undefined && c + 1 <= PAGE_SIZE;
  };

  /**
   * Nothing is left to ask for below the top: no plan has a seed to choose and every open gap has
   * the requests out that should close it.
   */
  const nearlyDone = (): boolean =>
    !plans.some((p) => !planDone(p)) && coverage.gaps(top).every(([lo, end]) => spokenFor(lo, end + 1));

  /**
   * A seed not back yet will read the ranks just above `lo`: a chain from `lo` would read them
   * twice. (Its intended one-record overlap, the seed starting at rank r + 50, is not a clash.)
   */
  const awaitsSeed = (lo: number): boolean => {
    if (seedingOff) return false;
    for (const p of plans) {
      if (lo < p.lo || lo >= p.hi) continue;
      const r = lo === p.lo ? -1 : p.rank.get(lo);
      if (r === undefined) continue;
      // Seed offsets whose page would overlap this chain's next page, still to come.
      const first = Math.max(1, Math.ceil((r - (PAGE_SIZE - 2)) / p.stride));
      for (let k = first; k * p.stride <= r + PAGE_SIZE - 1; k++) {
        const o = k * p.stride;
        // Offsets past what is confirmed come only while the walk still probes.
        if (o < p.upper && !p.done.has(o) && (p.pending.has(o) || o <= p.confirmed || probing())) return true;
      }
    }
    return false;
  };

  /** The next request worth making now, or undefined. */
  const nextJob = (): Job | undefined => {
    if (!topRead) return undefined;
    if (!seedingOff) {
      // Seeds first: they are where the chains are going.
      for (const plan of plans) {
        const offset = nextSeed(plan);
        if (offset === undefined) continue;
        plan.pending.add(offset);
        return { kind: 'seed', lo: plan.lo, hi: plan.hi, offset, label: `id > ${plan.lo}, offset ${offset}` };
      }
    }
    for (const [lo, end] of coverage.gaps(top)) {
      if (chainsFrom.has(lo) || awaitsSeed(lo)) continue;
      return { kind: 'chain', lo, hi: end + 1, offset: 0, label: `id > ${lo}` };
    }
    if (!aboveDone && !aboveInFlight && top > 0 && nearlyDone()) {
      // Everything up to the top page is read or on its way: look above it for records created
      // meanwhile (Coupa ids only grow), and go on up while pages come back full. It goes out with
      // the last pages rather than after them: one round trip less, and a record created in that
      // last round trip is one a sync started a moment earlier would not have seen either.
      const lo = aboveFrom ?? top;
      return { kind: 'above', lo, offset: 0, label: `id > ${lo} (above the top)` };
    }
    return undefined;
  };

  const launch = (job: Job): void => {
    inFlight++;
    stats.requests++;
    if (job.kind === 'chain' || job.kind === 'bottom') {
      stats.chains++;
      chainsFrom.add(job.lo);
    } else if (job.kind === 'seed') stats.seeds++;
    else if (job.kind === 'top') stats.top++;
    else {
      stats.above++;
      aboveInFlight = true;
    }
    stats.maxInFlight = Math.max(stats.maxInFlight, inFlight);
    const started = performance.now();
    void (async () => {
      try {
        const page = await fetchPage({ query: queryOf(job), label: job.label, signal });
        const ms = performance.now() - started;
        latencyMs = latencySamples ? latencyMs * 0.8 + ms * 0.2 : ms;
        latencySamples++;
        noteAnswer();
        learn(job, page);
        const items = fresh(page.filter(inside(job)));
        if (items.length) ready.push(items);
      } catch (error) {
        // The first failure wins; the others are requests we aborted because of it.
        if (!failure) {
          failure = { error };
          stop.abort(error);
        }
      } finally {
        inFlight--;
        if (job.kind === 'chain' || job.kind === 'bottom') chainsFrom.delete(job.lo);
        else if (job.kind === 'above') aboveInFlight = false;
        else if (job.kind === 'seed') {
          const plan = planOf(job);
          if (plan) {
            plan.pending.delete(job.offset);
            plan.done.add(job.offset);
            plan.probes.delete(job.offset);
          }
        }
        pump();
        notify();
      }
    })();
  };

  /**
   * Records expected in the gap (lo, hi) for the caller's progress: where a plan has read pages
   * inside its gap, the ids per record over everything it read there (runs of holes included)
   * size what is left of it. The neighbours' density that planned the gap cannot see those runs,
   * and on sparse ids it over-counts many times over: a progress bar stuck at 6% until the end.
   */
  const progressEstimate = (lo: number, hi: number): number | undefined => {
    const ranked = rankedSpan(lo, hi);
    if (ranked) return ranked.to - ranked.from - 1;
    const p = plans.find((q) => q.confirmed > 0 && lo >= q.lo && hi <= q.hi);
    const perRecord = p && idsPerRecord(p);
    return perRecord === undefined ? estimate(lo, hi) : Math.round((hi - lo - 1) / Math.max(perRecord, 1));
  };

  let reported: number | undefined;
  let lookedAt = -Infinity;
  const report = (): void => {
    if (!opts.onEstimate || !topRead) return;
    // Once per 10 pages read: each look sizes every open gap.
    if (seen.size < lookedAt + 10 * PAGE_SIZE) return;
    let total = seen.size;
    for (const [lo, end] of coverage.gaps(top)) {
      const c = progressEstimate(lo, end + 1);
      if (c === undefined) return;
      total += c;
    }
    lookedAt = seen.size;
    // Said again only when it has moved by more than 5%.
    if (reported !== undefined && Math.abs(total - reported) <= 0.05 * reported) return;
    reported = total;
    opts.onEstimate(total);
  };

  /**
   * Sends every request worth sending now. It runs on each answer, when the caller takes a page and
   * when the limiter frees a slot, not only when the caller asks for the next page: a caller busy
   * with something else (the sync reads the small lists while the users walk starts) must not hold
   * the walk back.
   */
  let pumpQueued = false;
  const pump = (): void => {
    if (pumpQueued || failure || finished) return;
    pumpQueued = true;
    // Once per turn of the event loop: by then every request sent in the last turn has taken its
    // slot in the limiter, so the free slots counted below are real ones.
    setImmediate(() => {
      pumpQueued = false;
      sendWhatIsDue();
    });
  };

  let allAskedSaid = false;
  const sendWhatIsDue = (): void => {
    sendNow();
    if (allAskedSaid || !opts.onAllAsked || failure || finished || !topRead) return;
    // Nothing below the top is left to choose, and the look above is out (or not needed).
    if ((aboveDone || aboveInFlight) && nearlyDone()) {
      allAskedSaid = true;
      opts.onAllAsked();
    }
  };

  const sendNow = (): void => {
    if (failure || finished || !topRead) return;
    // A short top page waits for the verdict on short pages before anything else is asked for.
    if (topShort && !verdictSettled && coverage.gaps(top).length) return;
    planSeeds();
    let slots = pace ? (pace.slots?.() ?? (pace.wait() > 0 ? 0 : 1)) : Infinity;
    while (inFlight < targetInFlight() && ready.length < maxReady) {
      if (slots <= 0) {
        // Only the limiter holds the next request back: come back when it has a slot.
        paceTimer ??= setTimeout(
          () => {
            paceTimer = undefined;
            pump();
          },
          Math.max(1, Math.ceil(pace!.wait())),
        );
        return;
      }
      const job = nextJob();
      if (!job) return;
      launch(job);
      slots--;
    }
  };

  evidence.enter();
  try {
    launch({ kind: 'top', lo: 0, offset: 0, label: 'top' });
    if (opts.bothEnds) launch({ kind: 'bottom', lo: 0, offset: 0, label: 'id > 0' });
    for (;;) {
      rethrow();
      while (ready.length) {
        evidence.pause();
        try {
          yield ready.shift()!;
        } finally {
          evidence.resume();
        }
        rethrow();
        pump();
      }
      report();
      const open = topRead ? coverage.gaps(top) : [];
      if (topRead && inFlight === 0 && open.length === 0 && aboveDone) return;

      if (topShort && inFlight === 0 && !verdictAsked && open.length) {
        // The list fit in a short top page, but this client has not yet seen the server send a
        // full page (a server capping pages at 25 would look the same): wait for another walk of
        // this client to show it, else confirm what lies below with one request.
        verdictAsked = true;
        if (await evidence.verdict()) coverage.add(0, top);
        verdictSettled = true;
        continue;
      }

      pump();
      if (ready.length || failure) continue;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
  } finally {
    finished = true;
    if (paceTimer) clearTimeout(paceTimer);
    evidence.leave();
    // The consumer stopped early or something failed: stop the requests still out.
    if (!stop.signal.aborted) stop.abort(new Error('pagination stopped'));
  }
}

/**
 * Ids out of the order asked for (within what was asked): a server ignoring `dir` or `order_by`
 * would otherwise make every cursor and bound wrong, and lose most of a list without a word.
 * Equal neighbours are a repeated record, removed later, not a wrong order.
 */
function inOrder(items: ReadonlyArray<{ id: number }>, dir: 'asc' | 'desc'): boolean {
  for (let i = 1; i < items.length; i++) {
    const [a, b] = [items[i - 1]!.id, items[i]!.id];
    if (dir === 'asc' ? b < a : b > a) return false;
  }
  return true;
}

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

function stuck(label: string, cursor: number): PaginationError {
  return new PaginationError(
    label,
    `the page did not advance past id ${cursor}; the server ignores the id[gt]/id[lt] filters or order_by=id`,
    'id',
  );
}
