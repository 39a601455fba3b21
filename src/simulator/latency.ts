import { mulberry32, type Random } from './prng.js';

/**
 * How long the simulator takes to answer. Coupa answers a page of 50 users with their embedded
 * roles, groups and licenses in 0.3–3 s; a fixed 100 ms hides everything that depends on latency
 * (how many requests a client must keep in flight, how a slow page holds up the rest).
 *
 * A model has a base distribution, drawn once per response, plus optional costs that grow with the
 * answer: per record returned and per embedded reference (an item of `roles`, `user-groups`…).
 */
export type LatencyModel = (
  | { kind: 'fixed'; ms: number }
  | { kind: 'uniform'; minMs: number; maxMs: number }
  /** Lognormal with the given median and 99th percentile (p99 ≥ median). */
  | { kind: 'lognormal'; medianMs: number; p99Ms: number }
) & {
  perRecordMs?: number;
  perReferenceMs?: number;
  /** Seed of the draws (default 1): the same seed gives the same sequence of delays. */
  seed?: number;
};

/** A number is a fixed delay in milliseconds. */
export type LatencySpec = number | LatencyModel;

/** z-score of the 99th percentile of a standard normal distribution. */
const Z99 = 2.326347874;

export class Latency {
  private readonly rand: Random;
  private spare: number | undefined;

  constructor(private readonly model: LatencyModel) {
    checkModel(model);
    this.rand = mulberry32(model.seed ?? 1);
  }

  static from(spec: LatencySpec | undefined): Latency | undefined {
    if (spec === undefined) return undefined;
    if (typeof spec === 'number') return spec > 0 ? new Latency({ kind: 'fixed', ms: spec }) : undefined;
    return new Latency(spec);
  }

  /** The base delay of one response, in ms. */
  base(): number {
    const m = this.model;
    switch (m.kind) {
      case 'fixed':
        return m.ms;
      case 'uniform':
        return m.minMs + this.rand() * (m.maxMs - m.minMs);
      case 'lognormal': {
        const sigma = Math.log(m.p99Ms / m.medianMs) / Z99;
        return m.medianMs * Math.exp(sigma * this.normal());
      }
    }
  }

  /** Whether answers cost more the more they hold (then `extra` is worth computing). */
  get grows(): boolean {
    return (this.model.perRecordMs ?? 0) > 0 || (this.model.perReferenceMs ?? 0) > 0;
  }

  /** The part that grows with the answer: records, and references embedded one level down. */
  extra(body: unknown): number {
    if (!this.grows) return 0;
    const records = Array.isArray(body) ? body : body && typeof body === 'object' ? [body] : [];
    let references = 0;
    for (const r of records) {
      if (!r || typeof r !== 'object') continue;
      for (const v of Object.values(r as Record<string, unknown>))
        if (Array.isArray(v)) references += v.length;
    }
    return records.length * (this.model.perRecordMs ?? 0) + references * (this.model.perReferenceMs ?? 0);
  }

  /** Box–Muller, two draws at a time. */
  private normal(): number {
    if (this.spare !== undefined) {
      const s = this.spare;
      this.spare = undefined;
      return s;
    }
    const u = 1 - this.rand();
    const v = this.rand();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }
}

function checkModel(m: LatencyModel): void {
  const bad = (why: string) => new RangeError(`latency: ${why}`);
  if (m.kind === 'fixed' && !(m.ms >= 0)) throw bad('a fixed delay must be ≥ 0 ms');
  if (m.kind === 'uniform' && !(m.minMs >= 0 && m.maxMs >= m.minMs)) throw bad('uniform needs 0 ≤ min ≤ max');
  if (m.kind === 'lognormal' && !(m.medianMs > 0 && m.p99Ms >= m.medianMs))
    throw bad('lognormal needs a median > 0 and a p99 ≥ the median');
  if ((m.perRecordMs ?? 0) < 0 || (m.perReferenceMs ?? 0) < 0) throw bad('per-record costs must be ≥ 0');
}

/**
 * The CLI's `--latency` value:
 *   `100ms`                              fixed
 *   `uniform:300ms-3s`                   uniform between the two
 *   `lognormal:1s` or `lognormal:1s,p99=4s`  median (p99 defaults to 3 × the median)
 * each optionally followed by `,per-record=2ms,per-ref=0.5ms`.
 */
export function parseLatency(text: string, parseDuration: (s: string) => number): LatencySpec {
  const [head, ...rest] = text.trim().split(',');
  const extras: Pick<LatencyModel, 'perRecordMs' | 'perReferenceMs'> = {};
  let p99: number | undefined;
  for (const part of rest) {
    const [key, value] = part.split('=').map((s) => s.trim()) as [string, string | undefined];
    if (value === undefined) throw new RangeError(`latency: "${part}" is not key=duration`);
    if (key === 'p99') p99 = parseDuration(value);
    else if (key === 'per-record') extras.perRecordMs = parseDuration(value);
    else if (key === 'per-ref') extras.perReferenceMs = parseDuration(value);
    else throw new RangeError(`latency: unknown key "${key}" (p99, per-record, per-ref)`);
  }
  const [kind, arg] = head!.includes(':') ? (head!.split(/:(.*)/s, 2) as [string, string]) : ['fixed', head!];
  let model: LatencyModel;
  if (kind === 'fixed') model = { kind: 'fixed', ms: parseDuration(arg), ...extras };
  else if (kind === 'uniform') {
    const [a, b] = arg.split('-');
    if (b === undefined) throw new RangeError(`latency: uniform needs min-max, e.g. uniform:300ms-3s`);
    model = { kind: 'uniform', minMs: parseDuration(a!), maxMs: parseDuration(b), ...extras };
  } else if (kind === 'lognormal') {
    const median = parseDuration(arg);
    model = { kind: 'lognormal', medianMs: median, p99Ms: p99 ?? 3 * median, ...extras };
  } else throw new RangeError(`latency: unknown kind "${kind}" (a duration, uniform:, lognormal:)`);
  if (p99 !== undefined && kind !== 'lognormal') throw new RangeError('latency: p99 is for lognormal only');
  checkModel(model);
  return model.kind === 'fixed' && !model.perRecordMs && !model.perReferenceMs ? model.ms : model;
}
