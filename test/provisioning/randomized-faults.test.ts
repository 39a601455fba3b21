import { afterAll, expect, it } from 'vitest';
import type { FaultRule, Simulator } from '../../src/simulator/index.js';
import { mulberry32 } from '../../src/simulator/prng.js';
import {
  ArrayModeMemory,
  NeedsRecoveryError,
  type ArrayMembershipType,
  type Provisioner,
} from '../../src/connector/provisioning/index.js';
import {
  afterRevoke,
  allHoldings,
  arrange,
  entitlementIdFor,
  existingIds,
  holdings,
  KINDS,
  provisionerFor,
  PROVISIONING_CLIENT,
} from './helpers.js';
import { testClient } from '../helpers/client.js';
import { testSimulatorWithDir } from '../helpers/simulator.js';

/**
 * The never-lose-access proof. Each trial revokes one entitlement while the simulator injects a
 * fault (500, connection reset, a response slower than the client's timeout, or a revoked token)
 * at a random request of the revoke; in a third of the trials the fault persists from there on
 * (Coupa going down mid-revoke), so the revoke really fails half-way. Then `recover` runs, and
 * the user must hold exactly what they held before minus the revoked entitlement: nothing lost,
 * the revoked item gone, no other kind touched.
 *
 * Trials run in LANES independent lanes (own simulator, client, journal and PRNG stream) so the
 * timeouts of one lane overlap the work of the others.
 */
const TRIALS = Number(process.env.PROVISIONING_TRIALS ?? 1000);
const SEED = Number(process.env.PROVISIONING_SEED ?? 20261128);
const LANES = 8;
const TIMEOUT_MS = 80;
const DELAY_MS = 200;
const USERS = 16;

type FaultKind = '500' | 'reset' | 'delay' | 'token';
const FAULT_KINDS: FaultKind[] = ['500', 'reset', 'delay', 'token'];

interface Tally {
  trials: number;
  faultsFired: number;
  persistentFaults: number;
  revokeFailed: number;
  needsRecovery: number;
  cleanFailures: number;
  entriesRecovered: number;
  recoverFailures: number;
  lost: number;
  extra: number;
  mismatches: string[];
  byFault: Record<string, number>;
}

function faultRule(kind: FaultKind, step: number, persistent: boolean): FaultRule {
  const when = persistent ? { afterRequests: step - 1 } : { onRequests: [step], times: 1 };
  switch (kind) {
    case '500':
      return { ...when, kind: 'status', status: 500 };
    case 'reset':
      return { ...when, kind: 'reset' };
    case 'delay':
      return { ...when, kind: 'delay', ms: DELAY_MS };
    case 'token':
      return { ...when, kind: 'revoke-token' };
  }
}

const stops: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const stop of stops) await stop();
});

async function runLane(lane: number, trials: number, tally: Tally): Promise<void> {
  const rand = mulberry32(SEED + lane * 7919);
  const sims: Record<'merge' | 'replace', { sim: Simulator; p: Provisioner; fresh: () => Provisioner }> =
    {} as never;
  for (const arrayMode of ['merge', 'replace'] as const) {
    const t = await testSimulatorWithDir({
      arrayMode,
      tenant: { users: USERS, seed: 100 + lane, roles: 8, userGroups: 8, contentGroups: 6, accountGroups: 6 },
    });
    stops.push(t.stop);
    const client = testClient(t.sim, PROVISIONING_CLIENT, {
      timeoutMs: TIMEOUT_MS,
      retry: { limit: 4, budget: 1e9, baseDelayMs: 2, maxDelayMs: 8 },
    });
    const opts = {
      client,
      // The settle window counts from when a write was sent; the simulator applies a held one
      // DELAY_MS after it arrived. Four times that leaves room for the event loop of a 2-core CI
      // machine running the whole suite (the simulator's timer fires late there, not early).
      retry: { rounds: 2, setAttempts: 2, delayMs: 2, settleMs: 4 * DELAY_MS },
    };
    const memory = new ArrayModeMemory();
    sims[arrayMode] = {
      sim: t.sim,
      p: provisionerFor(t.sim, t.dir, { ...opts, arrayModes: memory }),
      // Same journal, but no memory of the tenant's mode: the revoke has to detect it again.
      fresh: () => provisionerFor(t.sim, t.dir, { ...opts, arrayModes: new ArrayModeMemory() }),
    };
  }
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;

  for (let trial = 0; trial < trials; trial++) {
    const mode = rand() < 0.7 ? 'merge' : 'replace';
    const { sim, p: remembered, fresh } = sims[mode];
    const p = rand() < 0.25 ? fresh() : remembered;
    const user = 1 + Math.floor(rand() * USERS);
    const kind = pick(KINDS);

    // Top the user up to at least three items so there is a "rest" to lose.
    const pool: (number | string)[] =
      kind === 'license' ? [...sim.tenant.licenseFlags] : existingIds(sim, kind as ArrayMembershipType);
    const held = holdings(sim, user, kind);
    if (held.length < 3) {
      const add = pool.filter((x) => !held.includes(x)).slice(0, 3 - held.length + Math.floor(rand() * 2));
      arrange(sim, user, kind, [...held, ...add]);
    }
    const before = allHoldings(sim, user);
    const target = pick(before[kind]!);
    const expected = afterRevoke(before, kind, target);

    const faultKind = pick(FAULT_KINDS);
    const persistent = faultKind !== 'delay' && rand() < 0.33;
    const step = 1 + Math.floor(rand() * 4);
    const requestsBefore = sim.counters().total;
    const removeFault = sim.faults.add(faultRule(faultKind, step, persistent));
    let failure: unknown;
    try {
      await p.revoke(entitlementIdFor(kind, target), user);
    } catch (err) {
      failure = err;
      tally.revokeFailed++;
      if (err instanceof NeedsRecoveryError) tally.needsRecovery++;
    } finally {
      removeFault();
    }
    const fired = sim.counters().total - requestsBefore >= step;
    if (fired) {
      tally.faultsFired++;
      tally.byFault[faultKind] = (tally.byFault[faultKind] ?? 0) + 1;
      if (persistent) tally.persistentFaults++;
    }

    const report = await p.recover();
    tally.entriesRecovered += report.entries.filter((e) => e.outcome !== 'failed').length;
    tally.recoverFailures += report.entries.filter((e) => e.outcome === 'failed').length;
    // A request the client gave up on may still land; let it, so that a late write that would
    // undo the result is caught here rather than in some later trial.
    if (fired && faultKind === 'delay') await new Promise((r) => setTimeout(r, 2 * DELAY_MS));

    const label = `lane ${lane} trial ${trial}: ${mode} ${kind} user ${user} revoke ${String(target)} fault ${faultKind}@${step}${persistent ? '+' : ''}`;
    // A revoke that failed before its first destructive write has no journal entry: it is reported
    // as failed and may have changed nothing. Nothing may be lost either way; rerunning it (what
    // the caller of a failed revoke does) must then finish it.
    const cleanFailure = failure !== undefined && !(failure instanceof NeedsRecoveryError);
    compare(
      tally,
      `${label} (after recover)`,
      expected,
      allHoldings(sim, user),
      cleanFailure ? target : undefined,
    );
    if (cleanFailure) {
      tally.cleanFailures++;
      await p.revoke(entitlementIdFor(kind, target), user);
      compare(tally, `${label} (after rerun)`, expected, allHoldings(sim, user));
    }
    tally.trials++;
  }
}

/** Counts what `after` lacks (lost) and holds beyond `expected` (extra; `tolerated` may remain). */
function compare(
  tally: Tally,
  label: string,
  expected: Record<string, (number | string)[]>,
  after: Record<string, (number | string)[]>,
  tolerated?: number | string,
): void {
  for (const k of KINDS) {
    const lost = expected[k]!.filter((x) => !after[k]!.includes(x));
    const extra = after[k]!.filter((x) => !expected[k]!.includes(x) && x !== tolerated);
    tally.lost += lost.length;
    tally.extra += extra.length;
    if (lost.length || extra.length)
      tally.mismatches.push(`${label}: ${k} lost [${lost.join(',')}] extra [${extra.join(',')}]`);
  }
}

it(`revokes under ${TRIALS} randomized faults, then recover: zero entitlements lost`, async () => {
  const tally: Tally = {
    trials: 0,
    faultsFired: 0,
    persistentFaults: 0,
    revokeFailed: 0,
    needsRecovery: 0,
    cleanFailures: 0,
    entriesRecovered: 0,
    recoverFailures: 0,
    lost: 0,
    extra: 0,
    mismatches: [],
    byFault: {},
  };
  const perLane = Math.ceil(TRIALS / LANES);
  await Promise.all(Array.from({ length: LANES }, (_, lane) => runLane(lane, perLane, tally)));
  console.log(
    `randomized revoke faults: ${tally.trials} trials (seed ${SEED}), ${tally.faultsFired} faults fired ` +
      `(${Object.entries(tally.byFault)
        .map(([k, n]) => `${k} ${n}`)
        .join(', ')}; ${tally.persistentFaults} persistent), ${tally.revokeFailed} revokes failed ` +
      `(${tally.needsRecovery} with exit-5 NeedsRecoveryError, ${tally.cleanFailures} before any change, then rerun), ${tally.entriesRecovered} journal entries recovered, ` +
      `${tally.recoverFailures} recover failures, entitlements lost: ${tally.lost}, extra: ${tally.extra}`,
  );
  expect(tally.trials).toBeGreaterThanOrEqual(TRIALS);
  expect(tally.mismatches.slice(0, 10)).toEqual([]);
  expect(tally.lost).toBe(0);
  expect(tally.recoverFailures).toBe(0);
  // The faults must have bitten, or the test proves nothing.
  expect(tally.faultsFired).toBeGreaterThan(TRIALS / 2);
  expect(tally.needsRecovery).toBeGreaterThan(0);
  expect(tally.entriesRecovered).toBeGreaterThan(0);
}, 600_000);
