/** A wait or an age as people read it in a message: `850 ms`, `4.2 s`, `15 min`. */
export function formatDuration(ms: number): string {
  return ms < 1_000
    ? `${Math.round(ms)} ms`
    : ms < 120_000
      ? `${Math.round(ms / 100) / 10} s`
      : `${Math.round(ms / 60_000)} min`;
}
