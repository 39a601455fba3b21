/**
 * Go's `2006-01-02 15:04:05.999999999` layout, in UTC: the fraction loses trailing zeros and the
 * dot goes when it is zero. baton compares these as TEXT to pick the latest sync, so every row
 * must use this one layout.
 */
export function goTimestamp(date: Date = new Date(), extraNanos = 0): string {
  const p2 = (n: number) => String(n).padStart(2, '0');
  const base =
    `${String(date.getUTCFullYear()).padStart(4, '0')}-${p2(date.getUTCMonth() + 1)}-${p2(date.getUTCDate())} ` +
    `${p2(date.getUTCHours())}:${p2(date.getUTCMinutes())}:${p2(date.getUTCSeconds())}`;
  const nanos =
    date.getUTCMilliseconds() * 1_000_000 + Math.max(0, Math.min(999_999, Math.floor(extraNanos)));
  if (nanos === 0) return base;
  return `${base}.${String(nanos).padStart(9, '0').replace(/0+$/, '')}`;
}

/** Now, with sub-millisecond digits from the monotonic clock so close events still order. */
export function goTimestampNow(): string {
  const ns = process.hrtime.bigint() % 1_000_000n;
  return goTimestamp(new Date(), Number(ns));
}
