/** The report benchmark's numbers (bench/report.ts) and how BENCHMARKS.md shows them. */
import type { ReportSummary } from '../../src/report/index.js';

export interface ReportChildResult {
  bytes: number;
  seconds: number;
  /** Seconds per phase of generateReport: reading (decode + load), comparing (diff), writing. */
  phases: Record<string, number>;
  peakRssMb: number;
  summary: ReportSummary;
  changes: Record<string, number> | null;
}

/** The page in headless Chromium, when it is installed. */
export interface BrowserTimings {
  /** From navigation to the first view drawn (data parsed, indexes built). */
  readySeconds: number;
  /** From typing a login into the users search until the one match shows. */
  searchSeconds: number;
  /** JavaScript heap in use after the search (Chromium's performance.memory), if it tells. */
  heapMb: number | null;
}

export interface ReportBenchResult extends ReportChildResult {
  browser?: BrowserTimings;
  /** 1-minute load average at the start and the end: other work on the machine shows in the times. */
  loadAverage: [number, number];
  users: number;
  grants: number;
  c1zBytes: number;
  changedUsers: number;
}

const mb = (b: number) => (b / 1024 / 1024).toFixed(1);
const n = (x: number) => x.toLocaleString('en-US');
const s = (x: number | undefined) => (x === undefined ? '-' : x.toFixed(2));

export function reportBenchMarkdown(r: ReportBenchResult): string {
  const changes = r.changes ? Object.values(r.changes).reduce((a, b) => a + b, 0) : 0;
  return [
    '## HTML report',
    '',
    `\`bench/report.ts --users ${r.users}\`: the tenant synced twice into one c1z (${n(r.changedUsers)} users changed in between), then \`report\` in its own process on the built code.`,
    '',
    '| metric | value |',
    '| --- | --- |',
    `| users / grants in the file | ${n(r.summary.users)} / ${n(r.grants)} |`,
    `| c1z size (MB, two syncs) | ${mb(r.c1zBytes)} |`,
    `| report size (MB, one self-contained HTML file) | ${mb(r.bytes)} |`,
    `| generation time (s) | ${s(r.seconds)} |`,
    `| of which: decode and load / diff with the previous sync / queries and writing (s) | ${s(r.phases.reading)} / ${s(r.phases.comparing)} / ${s(r.phases.writing)} |`,
    `| peak RSS of the report process (MB) | ${r.peakRssMb.toFixed(1)} |`,
    `| findings (inactive-access / admin-access / api-users / no-sso / sod-conflicts) | ${['inactive-access', 'admin-access', 'api-users', 'no-sso', 'sod-conflicts'].map((k) => n(r.summary.findings[k] ?? 0)).join(' / ')} |`,
    `| changes since the previous sync (rows) | ${n(changes)} |`,
    ...(r.browser
      ? [
          `| headless Chromium: page drawn after (s) | ${s(r.browser.readySeconds)} |`,
          `| headless Chromium: search of all users for one login (s, incl. the 200 ms typing pause) | ${s(r.browser.searchSeconds)} |`,
          `| headless Chromium: JS heap in use (MB) | ${r.browser.heapMb === null ? '-' : r.browser.heapMb.toFixed(0)} |`,
        ]
      : ['| headless Chromium | not installed: page not timed |']),
    '',
    `1-minute load average ${r.loadAverage[0].toFixed(2)} at the start, ${r.loadAverage[1].toFixed(2)} at the end: the machine's other work shows in the times.`,
    '',
    'Tables in the page show 50 rows at a time (search and sort run over all of them); the data is embedded once as compact JSON.',
    '',
  ].join('\n');
}

/** Marks the section in BENCHMARKS.md so `--only report` can replace it alone. */
export const REPORT_SECTION_START = '<!-- report-bench:start -->';
export const REPORT_SECTION_END = '<!-- report-bench:end -->';

export function spliceReportSection(markdown: string, section: string): string {
  const block = `${REPORT_SECTION_START}\n\n${section}\n${REPORT_SECTION_END}`;
  const a = markdown.indexOf(REPORT_SECTION_START);
  const b = markdown.indexOf(REPORT_SECTION_END);
  if (a !== -1 && b > a) return markdown.slice(0, a) + block + markdown.slice(b + REPORT_SECTION_END.length);
  // Before the closing list of missed targets, or at the end.
  const at = markdown.indexOf('\n## Targets missed');
  return at === -1
    ? `${markdown.trimEnd()}\n\n${block}\n`
    : `${markdown.slice(0, at)}\n${block}\n${markdown.slice(at)}`;
}
