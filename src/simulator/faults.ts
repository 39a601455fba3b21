import type { FaultController, FaultRule } from './types.js';

interface ActiveRule {
  rule: FaultRule;
  /** Matching requests seen so far (the Nth-request schedules count these). */
  seen: number;
  fired: number;
}

function pathMatches(pattern: string | RegExp | undefined, path: string): boolean {
  if (pattern === undefined) return true;
  if (typeof pattern === 'string')
    return path === pattern || path.startsWith(pattern.endsWith('/') ? pattern : `${pattern}/`);
  return pattern.test(path);
}

/**
 * Decides, per request, whether a fault rule fires. Conditions on one rule are ANDed; a rule with
 * no schedule and no probability fires on every matching request (up to `times`). Rules are
 * checked in the order they were added and the first one that fires wins.
 */
export class FaultInjector implements FaultController {
  private rules: ActiveRule[] = [];

  constructor(
    initial: FaultRule[] = [],
    private readonly random: () => number = Math.random,
  ) {
    for (const r of initial) this.add(r);
  }

  add(rule: FaultRule): () => void {
    const active: ActiveRule = { rule, seen: 0, fired: 0 };
    this.rules.push(active);
    return () => {
      this.rules = this.rules.filter((r) => r !== active);
    };
  }

  clear(): void {
    this.rules = [];
  }

  pick(method: string, path: string): FaultRule | undefined {
    let chosen: FaultRule | undefined;
    for (const active of this.rules) {
      const { rule } = active;
      if (rule.match?.method && rule.match.method.toUpperCase() !== method.toUpperCase()) continue;
      if (!pathMatches(rule.match?.path, path)) continue;
      active.seen++;
      if (chosen) continue;
      if (rule.times !== undefined && active.fired >= rule.times) continue;
      if (rule.onRequests && !rule.onRequests.includes(active.seen)) continue;
      if (rule.afterRequests !== undefined && active.seen <= rule.afterRequests) continue;
      if (rule.probability !== undefined && !(this.random() < rule.probability)) continue;
      active.fired++;
      chosen = rule;
    }
    return chosen;
  }
}
