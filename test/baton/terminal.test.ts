import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_SCOPES, type Simulator } from '../../src/simulator/index.js';
import { barTotal, progressLine } from '../../src/cli/progress.js';
import { cliBin, simulatorFlags } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp-dir.js';
import { testSimulator } from '../helpers/simulator.js';

/**
 * A sync in a real terminal (a tmux pane of a fixed size), with a warning logged while the bar is
 * up: the account-group list is slow and then refused for want of core.accounting.read. The pane
 * is captured while the sync runs and at its end; tmux draws the bytes as a terminal would, so
 * what is checked is what a user sees.
 */
const BAR = /\[[█░]+\]/;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function tmux(socket: string, ...args: string[]): string {
  return execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
}

describe('progress bar and logs in a terminal', () => {
  let sim: Simulator;
  const tmp = tempDir();
  beforeAll(async () => {
    sim = await testSimulator({
      tenant: { seed: 5, users: 1500 },
      latencyMs: 60,
      rateLimit: false,
      allowedScopes: ALL_SCOPES.filter((s) => s !== 'core.accounting.read'),
      scopeMismatch: 'reject',
      faults: [{ match: { path: '/api/account_groups' }, kind: 'delay', ms: 1200 }],
    });
  });
  afterAll(async () => {
    await sim.close();
    tmp.cleanup();
  });

  for (const cols of [80, 120]) {
    it(`at ${cols} columns: the warning sits above the bar on its own lines, the bar fits`, async () => {
      const socket = `bp-term-${process.pid}-${cols}`;
      const out = join(tmp.dir, `tty-${cols}.c1z`);
      const cmd = [process.execPath, cliBin(), 'sync', ...simulatorFlags(sim), '-f', out]
        .map((a) => `'${a.replace(/'/g, `'\\''`)}'`)
        .join(' ');
      tmux(
        socket,
        'new-session',
        '-d',
        '-x',
        String(cols),
        '-y',
        '60',
        `env -u BATON_LOG_FORMAT TERM=xterm-256color ${cmd}; echo __EXIT__ $?; sleep 60`,
      );
      const snapshots: string[][] = [];
      try {
        for (let i = 0; i < 600; i++) {
          const screen = tmux(socket, 'capture-pane', '-p', '-J', '-S', '-200').split('\n');
          snapshots.push(screen);
          if (screen.some((l) => l.startsWith('__EXIT__'))) break;
          await sleep(100);
        }
      } finally {
        try {
          tmux(socket, 'kill-server');
        } catch {
          /* already gone */
        }
      }
      const final = snapshots.at(-1)!;
      expect(
        final.find((l) => l.startsWith('__EXIT__')),
        final.join('\n'),
      ).toBe('__EXIT__ 0');
      // The bar was on screen while the sync ran (not only drawn at the end).
      expect(snapshots.filter((s) => s.some((l) => BAR.test(l))).length).toBeGreaterThan(2);

      for (const screen of snapshots) {
        const bars = screen.filter((l) => BAR.test(l));
        // One bar at a time: a redraw never leaves an old bar line behind.
        expect(bars.length, screen.join('\n')).toBeLessThanOrEqual(1);
        for (const b of bars) {
          // Within the width (tmux joins wrapped rows back, so an overlong bar would show here).
          expect(b.length, b).toBeLessThanOrEqual(cols);
          expect(b).toMatch(/users/);
        }
        // A log line and the bar never share a line.
        for (const l of screen) expect(BAR.test(l) && /WARN|INFO/.test(l), l).toBe(false);
      }

      // The warning is whole, on its own line, exactly once, above the final bar and the summary.
      const warnAt = final.findIndex((l) => /WARN/.test(l));
      expect(warnAt, final.join('\n')).toBeGreaterThanOrEqual(0);
      expect(final[warnAt]).toMatch(
        /^\[\d\d:\d\d:\d\d\] WARN: Skipping account groups: .*--skip-account-groups to silence this warning\.$/,
      );
      expect(final.filter((l) => /WARN/.test(l))).toHaveLength(1);
      const barAt = final.findIndex((l) => BAR.test(l));
      const summaryAt = final.findIndex((l) => l.startsWith('Sync finished'));
      expect(barAt).toBeGreaterThan(warnAt);
      expect(summaryAt).toBeGreaterThan(barAt);
      // The final bar: full, with counts, requests, rate; the bar uses the room it has.
      const bar = final[barAt]!;
      expect(bar).toMatch(/1,500\/1,500 users \| [\d,]+ req \| [\d.]+ req\/s/);
      expect(bar.length).toBeGreaterThan(cols - 40);
    }, 90_000);
  }
});

describe('progressLine', () => {
  const p = { phase: 'users' as const, requests: 120, elapsedMs: 10_000, users: 5_000, total: 20_000 };
  it('counts to "?" before an estimate, never below what is read, and to exactly what was read at the end', () => {
    const at = (phase: 'lists' | 'users' | 'writing', usersSynced: number, usersEstimated?: number) =>
      barTotal({ phase, usersSynced, usersEstimated });
    expect(at('users', 100)).toBe(0);
    expect(progressLine({ ...p, users: 100, total: at('users', 100) }, 100)).toContain('100/? users');
    expect(at('users', 5_000, 20_000)).toBe(20_000);
    expect(at('users', 21_000, 20_000)).toBe(21_000);
    expect(at('writing', 19_990, 20_000)).toBe(19_990);
  });

  it('fits every width, shows counts, rate and ETA, and drops detail before the bar gets tiny', () => {
    for (let w = 20; w <= 200; w++)
      expect(progressLine(p, w).length, String(w)).toBeLessThanOrEqual(w - 1 < 20 ? 20 : w - 1);
    const wide = progressLine(p, 120);
    expect(wide).toContain('5,000/20,000 users');
    expect(wide).toContain('120 req');
    expect(wide).toContain('12.0 req/s');
    expect(wide).toContain('ETA 30s'); // 15,000 users left at 500 users/s
    const narrow = progressLine(p, 60);
    expect(narrow).toContain('5,000/20,000 users');
    expect(narrow).toMatch(/\[[█░]{10,}\]/);
    expect(progressLine({ ...p, total: 0, users: 0 }, 100)).toContain('ETA ?');
    // a wider terminal gets a wider bar, up to 40 cells
    const cells = (s: string) => /\[([█░]+)\]/.exec(s)![1]!.length;
    expect(cells(progressLine(p, 120))).toBeGreaterThan(cells(progressLine(p, 80)));
    expect(cells(progressLine(p, 300))).toBe(40);
  });
});
