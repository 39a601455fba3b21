/**
 * Runs `bench/run.ts --quick` end to end (simulator and sync children, writer micro-benchmark) so
 * the benchmark cannot rot. It checks that every size produced a sane row, never timing targets:
 * those are measured by `npm run bench`, not asserted.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { currentRepoDist } from '../helpers/package.js';
import type { BenchReport } from '../../bench/lib/markdown.js';
import { floorOf } from '../sync/helpers.js';

const run = promisify(execFile);
const root = join(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'coupa-bench-test-'));
const mdPath = join(dir, 'BENCH.md');
const jsonPath = join(dir, 'bench.json');
let report: BenchReport;
let stdout: string;

beforeAll(async () => {
  currentRepoDist();
  const res = await run(
    process.execPath,
    // --no-build: currentRepoDist() built it under a lock; a test must not rewrite dist/ under other tests.
    // --no-soak: test/bench/soak.test.ts runs the soak on its own.
    [
      '--import',
      'tsx',
      'bench/run.ts',
      '--quick',
      '--no-build',
      '--no-soak',
      '--out',
      mdPath,
      '--json',
      jsonPath,
    ],
    { cwd: root, timeout: 110_000, maxBuffer: 16 * 1024 * 1024 },
  );
  stdout = res.stdout;
  report = JSON.parse(readFileSync(jsonPath, 'utf8')) as BenchReport;
}, 120_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('npm run bench -- --quick', () => {
  it('produces one row per quick size, each a complete and exact sync', () => {
    expect(report.rows.map((r) => r.users)).toEqual([500, 2000]);
    // And the matrix: both id layouts at each size.
    expect(report.matrix!.map((c) => `${c.users} ${c.layout}`)).toEqual([
      '500 dense',
      '500 sparse',
      '2000 dense',
      '2000 sparse',
    ]);
    for (const c of report.matrix!) expect(c.row.exact).toBe(true);
    for (const row of report.rows) {
      expect(row.truth.users).toBe(row.users);
      expect(row.exact).toBe(true);
      expect(row.grants).toBe(row.truth.grants);
      expect(row.grants).toBeGreaterThan(row.users);
    }
  });

  it('counts requests against a floor worked out from the tenant, not from the sync', () => {
    for (const row of report.rows) {
      const t = row.truth;
      // Issue 12's floor, by the tests' own formula.
      const floor = floorOf(t);
      expect(row.requestFloor).toBe(floor);
      expect(row.requests).toBeGreaterThanOrEqual(floor);
      expect(row.requestRatio).toBeCloseTo(row.requests / floor, 10);
      // The simulator's count and the client's own agree: nothing was missed on either side.
      expect(row.clientRequests).toBe(row.requests);
      const byRoute = Object.values(row.requestsByRoute).flatMap((s) => Object.values(s));
      expect(byRoute.reduce((a, b) => a + b, 0)).toBe(row.requests);
    }
  });

  it('reports finite times, memory and sizes, and the floors they are compared with', () => {
    for (const row of report.rows) {
      for (const v of [
        row.wallS,
        row.wallRatio,
        row.requestRatio,
        row.grantsPerWallS,
        row.grantsPerWriterS,
      ]) {
        expect(Number.isFinite(v)).toBe(true);
        expect(v).toBeGreaterThan(0);
      }
      expect(row.rateFloorS).toBeCloseTo(row.requestFloor / report.rate, 10);
      expect(row.requestsAtRateS).toBeCloseTo(row.requests / report.rate, 10);
      expect(row.peakRssMb).toBeGreaterThan(0);
      expect(row.peakRssMb).toBeGreaterThanOrEqual(row.baselineRssMb);
      expect(row.c1zMb).toBeGreaterThan(0);
      expect(row.writerS).toBeLessThanOrEqual(row.wallS);
      expect(row.throttled).toBeGreaterThanOrEqual(0);
      expect(['PASS', 'MISS']).toContain(row.verdicts.requests);
      expect(row.verdicts.requests === 'PASS').toBe(row.requests <= 1.02 * row.requestFloor + 2);
    }
  });

  it('runs the writer micro-benchmark in quick size', () => {
    expect(report.writer).toBeDefined();
    const w = report.writer!;
    expect(w.grants).toBe(100_000);
    expect(w.totalPerS).toBeGreaterThan(0);
    expect(w.peakRssMb).toBeGreaterThan(0);
    expect(w.writerPerS).toBeGreaterThanOrEqual(w.totalPerS);
    expect(w.verdict === 'PASS').toBe(w.writerPerS >= 100_000);
  });

  it('writes the Markdown report with the command, the machine and a table per size', () => {
    const md = readFileSync(mdPath, 'utf8');
    expect(md).toContain('node --import tsx bench/run.ts --quick --no-build');
    expect(md).toContain(`Node ${process.version}`);
    expect(md).toMatch(/\|\s*metric\s*\|\s*500 users\s*\|\s*2k users\s*\|\s*target\s*\|/);
    expect(md).toContain('## c1z writer micro-benchmark');
    expect(stdout).toMatch(/targets: \d+ PASS, \d+ MISS/);
    // The simulator's credentials are throw-away, but nothing should print a secret anyway.
    expect(md).not.toMatch(/client secret/i);
  });
});
