import { Latency, type LatencyModel } from '../../src/simulator/latency.js';

/**
 * The wall time no client can beat on a given latency model, on average: the token's round trip,
 * then `requests` sent exactly as fast as Coupa's bucket admits them (the burst at once, then one
 * every 1/rate s), each answered after its own draw of the latency; the sync ends with the last
 * answer. It knows every request in advance and ignores the work after the last answer, so a real
 * sync (which learns where to ask from the answers) can only be slower.
 *
 * What it shows: at a 1–2 s median with p99 = 3 × median, the last answers alone are seconds
 * behind the last request, which a 10k-user sync (8 s of requests) cannot hide.
 */
export function unbeatableWallS(opts: {
  requests: number;
  perSecond: number;
  burst: number;
  latency: LatencyModel;
  /** Draws to average over (default 200). */
  draws?: number;
}): number {
  const draws = opts.draws ?? 200;
  const latency = new Latency({ ...opts.latency, seed: opts.latency.seed ?? 1 });
  let total = 0;
  for (let d = 0; d < draws; d++) {
    let end = 0;
    for (let i = 0; i < opts.requests; i++) {
      const sentAt = Math.max(0, (i - (opts.burst - 1)) / opts.perSecond);
      end = Math.max(end, sentAt + latency.base() / 1000);
    }
    total += latency.base() / 1000 + end;
  }
  return total / draws;
}
