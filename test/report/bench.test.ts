/**
 * The report benchmark (bench/report.ts, part of `npm run bench`) at a small size, so it cannot rot:
 * it must produce a sane row and its section must land in BENCHMARKS.md without touching the rest.
 * Timings are measured by the benchmark, never asserted here.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { currentRepoDist } from '../helpers/package.js';
import {
  REPORT_SECTION_END,
  REPORT_SECTION_START,
  reportBenchMarkdown,
  spliceReportSection,
  type ReportBenchResult,
} from '../../bench/lib/report-bench.js';

const run = promisify(execFile);
const root = join(import.meta.dirname, '../..');

describe('bench/report.ts', () => {
  it('syncs twice, reports in its own process and prints one sane JSON row', async () => {
    currentRepoDist(); // its children run dist/, as the shipped CLI does
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'bench/report.ts', '--users', '700'], {
      cwd: root,
      timeout: 90_000,
    });
    const r = JSON.parse(stdout.trim().split('\n').at(-1)!) as ReportBenchResult;
    expect(r.users).toBe(700);
    expect(r.summary.users).toBe(700);
    expect(r.summary.grants).toBe(r.grants);
    expect(r.bytes).toBeGreaterThan(50_000);
    expect(r.peakRssMb).toBeGreaterThan(10);
    expect(r.changedUsers).toBe(7);
    expect(r.changes!['user changed']).toBeGreaterThan(0);
    const md = reportBenchMarkdown(r);
    expect(md).toContain(`| users / grants in the file | 700 / ${r.grants.toLocaleString('en-US')} |`);
  }, 100_000);

  it('replaces its own section of BENCHMARKS.md and leaves the rest alone', () => {
    const doc = '# Benchmarks\n\n## Syncs\n\nrows\n\n## Targets missed\n\nNone.\n';
    const once = spliceReportSection(doc, '## HTML report\n\nfirst\n');
    expect(once.indexOf(REPORT_SECTION_START)).toBeLessThan(once.indexOf('## Targets missed'));
    expect(once).toContain('## Syncs\n\nrows');
    const twice = spliceReportSection(once, '## HTML report\n\nsecond\n');
    expect(twice).toContain('second');
    expect(twice).not.toContain('first');
    expect(twice.split(REPORT_SECTION_END)).toHaveLength(2);
    expect(twice.startsWith('# Benchmarks\n\n## Syncs\n\nrows\n')).toBe(true);
    expect(twice.trimEnd().endsWith('## Targets missed\n\nNone.')).toBe(true);
  });
});
