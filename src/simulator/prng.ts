/** mulberry32: tiny, fast and good enough for test data; the same seed always yields the same tenant. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type Random = () => number;

export function pick<T>(rand: Random, items: readonly T[]): T {
  const item = items[Math.floor(rand() * items.length)];
  if (item === undefined) throw new Error('pick() from an empty list');
  return item;
}

/** `count` distinct integers from 1..max (fewer if max is smaller). */
export function pickIds(rand: Random, max: number, count: number): number[] {
  const n = Math.min(count, max);
  const out: number[] = [];
  while (out.length < n) {
    const id = 1 + Math.floor(rand() * max);
    if (!out.includes(id)) out.push(id);
  }
  // slice() drops the spare capacity push() leaves behind (~100 bytes per array, x400k arrays).
  return out.sort((a, b) => a - b).slice();
}
