import type { RequestCounters } from './types.js';

export class Counters {
  private data: RequestCounters = { total: 0, byRoute: {}, byStatus: {}, byRouteStatus: {} };

  record(route: string, status: number | 'reset'): void {
    const d = this.data;
    const s = String(status);
    d.total++;
    d.byRoute[route] = (d.byRoute[route] ?? 0) + 1;
    d.byStatus[s] = (d.byStatus[s] ?? 0) + 1;
    const rs = (d.byRouteStatus[route] ??= {});
    rs[s] = (rs[s] ?? 0) + 1;
  }

  snapshot(): RequestCounters {
    return structuredClone(this.data);
  }

  reset(): void {
    this.data = { total: 0, byRoute: {}, byStatus: {}, byRouteStatus: {} };
  }
}
