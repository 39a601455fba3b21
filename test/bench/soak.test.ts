/**
 * Runs the service-mode soak small (bench/soak.ts: a real daemon process, the fake ConductorOne and
 * the Coupa simulator) so it cannot rot. It checks that the soak measures and that every task
 * succeeded and the daemon cleaned up; whether memory stays flat is for `npm run bench` to show
 * over 200 tasks, not for a test to assert over eight.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { currentRepoDist } from '../helpers/package.js';
import { replaceSoakSection, type SoakResult } from '../../bench/lib/soak.js';

const run = promisify(execFile);
const root = join(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'coupa-soak-test-'));
const jsonPath = join(dir, 'soak.json');
let result: SoakResult;
let stdout: string;

beforeAll(async () => {
  currentRepoDist();
  const res = await run(
    process.execPath,
    ['--import', 'tsx', 'bench/soak.ts', '--tasks', '8', '--users', '30', '--no-build', '--json', jsonPath],
    { cwd: root, timeout: 110_000, maxBuffer: 16 * 1024 * 1024 },
  );
  stdout = res.stdout;
  result = JSON.parse(readFileSync(jsonPath, 'utf8')) as SoakResult;
}, 120_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('bench/soak.ts', () => {
  it('runs every task through the daemon and stops it cleanly', () => {
    expect(result.tasks).toBe(8);
    expect(result.succeeded).toBe(8);
    expect(result.failed).toBe(0);
    expect(result.exitCode).toBe(0);
    expect(result.verdicts.exit).toBe('PASS');
    expect(result.tempFiles.afterStop).toBe(0);
  });

  it('samples the daemon after every task, from /proc and its own /metrics', () => {
    expect(result.samples.map((s) => s.task)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    for (const s of result.samples) {
      expect(s.rssMb).toBeGreaterThan(20);
      expect(s.fds).toBeGreaterThan(2);
      expect(s.heapUsedMb).toBeGreaterThan(1);
    }
    expect(result.metrics?.fullSyncSuccess).toBe(8);
    expect(result.metrics?.coupaRequests).toBeGreaterThan(8);
    expect(result.metrics?.lastSyncAgeS).toBeLessThan(60);
  });

  it('derives each verdict from the figures it prints', () => {
    const { rssMb, fds, verdicts } = result;
    expect(verdicts.rss === 'PASS').toBe(rssMb.lastQuartile <= rssMb.firstQuartile * 1.1);
    expect(verdicts.fds === 'PASS').toBe(fds.lastQuartile <= fds.firstQuartile);
    expect(rssMb.max).toBeGreaterThanOrEqual(Math.max(...result.samples.map((s) => s.rssMb)));
    expect(stdout).toMatch(/RSS \(MB, mean\)/);
    expect(stdout).toContain('8 full-sync tasks');
  });
});

describe('replaceSoakSection', () => {
  const section = ['## Service-mode soak', '', 'new figures', ''];

  it('replaces the old section and keeps the others', () => {
    const md = ['# B', '', '## Syncs', 'a', '## Service-mode soak', 'old', '## Targets missed', 'None.'].join(
      '\n',
    );
    expect(replaceSoakSection(md, section)).toBe(
      ['# B', '', '## Syncs', 'a', ...section, '## Targets missed', 'None.'].join('\n'),
    );
  });

  it('adds it before "Targets missed" when there is none, or at the end', () => {
    expect(replaceSoakSection('# B\n## Targets missed\nNone.', section)).toBe(
      ['# B', ...section, '## Targets missed', 'None.'].join('\n'),
    );
    expect(replaceSoakSection('# B', section)).toBe(['# B', ...section].join('\n'));
  });
});
