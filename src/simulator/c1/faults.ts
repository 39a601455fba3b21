import type { RpcMethodName } from './types.js';

/**
 * A failure the fake ConductorOne plays instead of answering.
 * - `unavailable`: RPCs fail with gRPC Unavailable (14); the token endpoint answers HTTP 503.
 * - `http503`: a bare HTTP 503 before any gRPC framing (what a load balancer in front of
 *   ConductorOne sends; gRPC clients map it to Unavailable).
 * - `reset`: the connection is destroyed without an answer (TCP reset / HTTP/2 session torn down).
 */
export interface FakeC1Fault {
  kind: 'unavailable' | 'http503' | 'reset';
  /** Which requests it hits: gRPC calls, token requests, or both (default). */
  target?: 'rpc' | 'token' | 'any';
  /** Restricts an RPC fault to these methods (e.g. `['GetTask']`). */
  methods?: RpcMethodName[];
  /** Hit only the next N matching requests. */
  calls?: number;
  /** Hit matching requests for this long from now. With `calls` too, whichever runs out first. */
  forMs?: number;
}

/** A fault in force; `hits` counts the requests it has failed so far. */
export interface FakeC1FaultHandle {
  readonly hits: number;
  /** Ends it early. */
  clear(): void;
}

interface ActiveFault {
  rule: FakeC1Fault;
  until?: number;
  hits: number;
  cleared: boolean;
}

export class FaultSchedule {
  private active: ActiveFault[] = [];

  inject(rule: FakeC1Fault): FakeC1FaultHandle {
    const fault: ActiveFault = {
      rule,
      until: rule.forMs === undefined ? undefined : Date.now() + rule.forMs,
      hits: 0,
      cleared: false,
    };
    this.active.push(fault);
    return {
      get hits() {
        return fault.hits;
      },
      clear: () => {
        fault.cleared = true;
      },
    };
  }

  clear(): void {
    for (const f of this.active) f.cleared = true;
    this.active = [];
  }

  /** The fault to play for this request, if any (and counts it). */
  take(target: 'rpc' | 'token', method?: RpcMethodName): FakeC1Fault['kind'] | undefined {
    const now = Date.now();
    this.active = this.active.filter(
      (f) =>
        !f.cleared &&
        (f.until === undefined || now < f.until) &&
        (f.rule.calls === undefined || f.hits < f.rule.calls),
    );
    for (const f of this.active) {
      const t = f.rule.target ?? 'any';
      if (t !== 'any' && t !== target) continue;
      if (target === 'rpc' && f.rule.methods && (!method || !f.rule.methods.includes(method))) continue;
      if (target === 'token' && f.rule.methods) continue;
      f.hits++;
      return f.rule.kind;
    }
    return undefined;
  }
}
