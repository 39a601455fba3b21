import { mulberry32, type Random } from './prng.js';

/**
 * How a generated tenant's ids are spread. Real Coupa tenants do not number their records 1..n:
 * ids come from sequences shared with failed and deleted records and with imports, so a list
 * starts far from 1, has gaps of every size (some of them long runs of holes) and now and then a
 * record with a very large id. A connector that only ever met ids 1..n could lean on that without
 * knowing it (reading `p + 1` as "the next record", sizing id ranges from the largest id).
 */
export interface IdLayout {
  /** The first id of the list (the built-in roles keep 1..4 before it). */
  start: number;
  /** Distance from one id to the next, 1 = adjacent. */
  gap: GapDistribution;
  /**
   * Long runs of holes (a bulk import that failed, a range reserved for another object type):
   * after each id, with `probability`, the next one jumps ahead by a length drawn uniformly from
   * [minLength, maxLength].
   */
  holeRuns?: { probability: number; minLength: number; maxLength: number };
  /**
   * The highest `largeIds` ids of the list are very large (drawn between 2^40 and 2^52, still
   * exact as JavaScript numbers, with room left for records created later). Only for lists of at
   * least `largeIdsFrom` records (default 100): a dozen groups rarely have one.
   */
  largeIds?: number;
  largeIdsFrom?: number;
}

export type GapDistribution =
  | { kind: 'fixed'; size: number }
  /** Geometric: gap g ≥ 1 with mean `mean` (each id in between is used elsewhere with probability 1 − 1/mean). */
  | { kind: 'geometric'; mean: number }
  | { kind: 'uniform'; min: number; max: number };

/** `dense`: 1, 2, 3… (what the simulator always did). `sparse`: a realistic mix, see SPARSE_LAYOUT. */
export type IdLayoutSpec = 'dense' | 'sparse' | IdLayout;

export const DENSE_LAYOUT: IdLayout = { start: 1, gap: { kind: 'fixed', size: 1 } };

/**
 * The default of `--ids sparse`: ids start in the tens of thousands, about 3 of every 5 are
 * missing, one id in 500 is followed by a run of 2,000–40,000 holes, and the three highest users are
 * very large. Not a measurement of any one tenant; a mix that breaks every "ids are 1..n"
 * assumption at once.
 */
export const SPARSE_LAYOUT: IdLayout = {
  start: 10_000,
  gap: { kind: 'geometric', mean: 2.5 },
  holeRuns: { probability: 0.002, minLength: 2_000, maxLength: 40_000 },
  largeIds: 3,
  largeIdsFrom: 100,
};

/** Largest id a layout hands out: 2^52, so that records created later still get exact ids. */
export const MAX_LAYOUT_ID = 2 ** 52;
const LARGE_FROM = 2 ** 40;

export function resolveLayout(spec: IdLayoutSpec | undefined): IdLayout {
  if (spec === undefined || spec === 'dense') return DENSE_LAYOUT;
  if (spec === 'sparse') return SPARSE_LAYOUT;
  return spec;
}

export function isDense(layout: IdLayout): boolean {
  return (
    layout.start === 1 &&
    layout.gap.kind === 'fixed' &&
    layout.gap.size === 1 &&
    !layout.holeRuns &&
    !layout.largeIds
  );
}

/**
 * `count` ascending ids for one list, drawn from the layout with its own PRNG (so adding a layout
 * does not change any other random draw of the generator). The list's first id is `start` plus
 * up to one gap, so that lists of one tenant do not all begin at the same number.
 */
export function layoutIds(layout: IdLayout, count: number, seed: number): number[] {
  const ids: number[] = new Array<number>(count);
  if (count === 0) return ids;
  const rand = mulberry32(seed);
  checkLayout(layout);
  const large =
    count >= (layout.largeIdsFrom ?? 100)
      ? Math.min(count, Math.max(0, Math.floor(layout.largeIds ?? 0)))
      : 0;
  let id = Math.max(1, Math.floor(layout.start));
  for (let i = 0; i < count - large; i++) {
    ids[i] = id;
    id += drawGap(layout.gap, rand);
    const holes = layout.holeRuns;
    if (holes && rand() < holes.probability) {
      id += holes.minLength + Math.floor(rand() * (holes.maxLength - holes.minLength + 1));
    }
  }
  if (large > 0) {
    const last = count - large > 0 ? ids[count - large - 1]! : 0;
    const from = Math.max(LARGE_FROM, last + 1);
    const picks = new Set<number>();
    while (picks.size < large) picks.add(from + Math.floor(rand() * (MAX_LAYOUT_ID - from)));
    const sorted = [...picks].sort((a, b) => a - b);
    for (let i = 0; i < large; i++) ids[count - large + i] = sorted[i]!;
  }
  if (ids[count - 1]! > MAX_LAYOUT_ID) {
    throw new RangeError(
      `id layout: ${count} ids starting at ${layout.start} reach ${ids[count - 1]}, above 2^52; use smaller gaps`,
    );
  }
  return ids;
}

function drawGap(gap: GapDistribution, rand: Random): number {
  switch (gap.kind) {
    case 'fixed':
      return gap.size;
    case 'uniform':
      return gap.min + Math.floor(rand() * (gap.max - gap.min + 1));
    case 'geometric': {
      // Inverse CDF of the geometric distribution on 1, 2, 3… with success probability 1/mean.
      const p = 1 / gap.mean;
      if (p >= 1) return 1;
      return 1 + Math.floor(Math.log(1 - rand()) / Math.log(1 - p));
    }
  }
}

function checkLayout(layout: IdLayout): void {
  const bad = (why: string) => new RangeError(`id layout: ${why}`);
  if (!Number.isSafeInteger(layout.start) || layout.start < 1) throw bad(`start must be a whole number ≥ 1`);
  const g = layout.gap;
  if (g.kind === 'fixed' && !(Number.isInteger(g.size) && g.size >= 1)) throw bad('a fixed gap must be ≥ 1');
  if (g.kind === 'uniform' && !(Number.isInteger(g.min) && g.min >= 1 && g.max >= g.min))
    throw bad('a uniform gap needs 1 ≤ min ≤ max');
  if (g.kind === 'geometric' && !(g.mean >= 1)) throw bad('a geometric gap needs a mean ≥ 1');
  const h = layout.holeRuns;
  if (h && !(h.probability >= 0 && h.probability <= 1 && h.minLength >= 0 && h.maxLength >= h.minLength))
    throw bad('hole runs need 0 ≤ probability ≤ 1 and 0 ≤ minLength ≤ maxLength');
}

/**
 * The CLI's `--ids` value: `dense`, `sparse`, or `sparse:key=value,…` overriding the sparse
 * preset (`start`, `gap` = mean of the geometric gap, `holes` = run probability, `hole-min`,
 * `hole-max`, `large` = number of very large ids).
 */
export function parseIdLayout(text: string): IdLayoutSpec {
  const [name, params] = text.trim().split(/:(.*)/s, 2) as [string, string | undefined];
  if (name === 'dense' && !params) return 'dense';
  if (name !== 'sparse') throw new RangeError(`unknown id layout "${text}" (dense, sparse, sparse:gap=3,…)`);
  if (!params) return 'sparse';
  const layout: IdLayout = { ...SPARSE_LAYOUT, holeRuns: { ...SPARSE_LAYOUT.holeRuns! } };
  for (const pair of params.split(',')) {
    const [key, raw] = pair.split('=').map((s) => s.trim()) as [string, string | undefined];
    const n = Number(raw);
    if (raw === undefined || raw === '' || !Number.isFinite(n))
      throw new RangeError(`id layout: "${pair}" is not key=number`);
    if (key === 'start') layout.start = n;
    else if (key === 'gap') layout.gap = { kind: 'geometric', mean: n };
    else if (key === 'holes') layout.holeRuns!.probability = n;
    else if (key === 'hole-min') layout.holeRuns!.minLength = n;
    else if (key === 'hole-max') layout.holeRuns!.maxLength = n;
    else if (key === 'large') layout.largeIds = n;
    else
      throw new RangeError(`id layout: unknown key "${key}" (start, gap, holes, hole-min, hole-max, large)`);
  }
  checkLayout(layout);
  return layout;
}
