import { BURST_SAFETY_MARGIN, RATE_SAFETY_FACTOR } from '../../src/coupa/rate-limiter.js';
import type { Machine } from './machine.js';
import { soakMarkdown, soakMisses, type SoakResult } from './soak.js';
import { markdownTable, sizeTable, TARGETS, writerTable, type SizeRow, type WriterRow } from './report.js';

export interface BenchReport {
  date: string;
  command: string;
  machine: Machine;
  loadAverageAfter: number[];
  latencyMs: number;
  rate: number;
  burst: number;
  rows: SizeRow[];
  /** Every cell of latency × id layout × size (issue 12). */
  matrix?: MatrixCell[];
  writer?: WriterRow;
  /** bench/c1z-writer.ts's own report, verbatim. */
  writerOutput?: string;
  soak?: SoakResult;
}

export interface MatrixCell {
  users: number;
  layout: string;
  /** Lognormal median of the simulator's response time, ms (p99 = 3 × median). */
  medianMs: number;
  row: SizeRow;
  /** The wall time no client can beat on this cell's latency model, on average (oracle.ts). */
  unbeatableS?: number;
  /** 1-minute load average of the machine when the cell started and ended. */
  loadBefore: number;
  loadAfter: number;
}

/** The issue-12 table: rows size × layout, columns latency; each cell requests/floor and wall/rate floor. */
export function matrixMarkdown(cells: MatrixCell[]): string[] {
  const medians = [...new Set(cells.map((c) => c.medianMs))].sort((a, b) => a - b);
  const keys = [...new Set(cells.map((c) => `${c.users}|${c.layout}`))];
  const head = [
    'size, ids',
    ...medians.map((m) => `${m >= 1000 ? `${m / 1000} s` : `${m} ms`} median`),
    'peak RSS (MB)',
  ];
  const body = keys.map((k) => {
    const [users, layout] = k.split('|');
    const row = cells.filter((c) => `${c.users}|${c.layout}` === k);
    return [
      `${sizeLabel(Number(users))} users, ${layout}`,
      ...medians.map((m) => {
        const c = row.find((x) => x.medianMs === m);
        if (!c) return '—';
        const r = c.row;
        const best =
          c.unbeatableS === undefined ? '' : ` (best possible ${(c.unbeatableS / r.rateFloorS).toFixed(2)})`;
        return `${r.requests} / ${r.requestFloor} = ${r.requestRatio.toFixed(3)} ${r.verdicts.requests}; ${fix(r.wallS, 1)} s / ${fix(r.rateFloorS, 1)} s = ${r.wallRatio.toFixed(2)}${r.verdicts.wall === 'n/a' ? '' : ` ${r.verdicts.wall}`}${best}`;
      }),
      fix(Math.max(...row.map((c) => c.row.peakRssMb)), 1),
    ];
  });
  const details = cells.map(
    (c) =>
      `- ${sizeLabel(c.users)} ${c.layout}, ${c.medianMs} ms: ${c.row.requests} requests (floor ${c.row.requestFloor}), ` +
      `wall ${fix(c.row.wallS, 2)} s` +
      (c.unbeatableS === undefined ? '' : ` (no client beats ${fix(c.unbeatableS, 2)} s on average)`) +
      `, most in flight ${c.row.lanes}` +
      (c.row.walkStats
        ? ` (users walk: ${c.row.walkStats.seeds} seeds, ${c.row.walkStats.chains} chains, ${c.row.walkStats.emptySeeds} empty)`
        : '') +
      `, 429s ${c.row.throttled}, peak RSS ${fix(c.row.peakRssMb, 1)} MB, load ${c.loadBefore.toFixed(2)} → ${c.loadAfter.toFixed(2)}${c.row.exact ? '' : ', NOT EXACT'}`,
  );
  return [markdownTable([head, ...body]), '', ...details];
}

const ROUTES: Array<[route: string, list: keyof SizeRow['truth'] | 'token']> = [
  ['POST /oauth2/token', 'token'],
  ['GET /api/users', 'users'],
  ['GET /api/user_groups', 'userGroups'],
  ['GET /api/roles', 'roles'],
  ['GET /api/business_groups', 'contentGroups'],
  ['GET /api/account_groups', 'accountGroups'],
];

/**
 * Where the requests above the floor went, per route: answered requests beyond the pages the list
 * needs (a page confirming a gap in sparse ids, a page for users created mid-sync, a page asked twice) and 429s (each one is a request too).
 */
export function overheadNotes(row: SizeRow): string[] {
  const notes: string[] = [];
  const known = new Set(ROUTES.map(([r]) => r));
  for (const [route, list] of ROUTES) {
    const byStatus = row.requestsByRoute[route] ?? {};
    const total = Object.values(byStatus).reduce((a, b) => a + b, 0);
    const throttled = byStatus['429'] ?? 0;
    const needed = list === 'token' ? 1 : Math.max(1, Math.ceil(row.truth[list] / 50));
    const answered = total - throttled;
    if (answered === needed && throttled === 0) continue;
    const parts = [`${answered} answered for ${needed} needed (${signed(answered - needed)})`];
    if (throttled) parts.push(`${throttled} × 429`);
    notes.push(`${route}: ${parts.join(', ')}`);
  }
  for (const [route, byStatus] of Object.entries(row.requestsByRoute)) {
    if (known.has(route)) continue;
    const total = Object.values(byStatus).reduce((a, b) => a + b, 0);
    notes.push(`${route}: ${total} unexpected request(s)`);
  }
  if (!notes.length) notes.push('every route made exactly the requests its list needs');
  return notes;
}

const fix = (n: number, digits: number) => String(Number(n.toFixed(digits)));
const signed = (n: number) => (n >= 0 ? `+${n}` : String(n));

function sizeLabel(users: number): string {
  return users >= 1000 && users % 1000 === 0 ? `${users / 1000}k` : String(users);
}

/** The syncs a run judged: every cell of the grid when there is one (the detailed table's syncs among them). */
function judgedSyncs(
  r: Pick<BenchReport, 'rows' | 'matrix'>,
): Array<{ row: SizeRow; at: string; best?: number }> {
  if (!r.matrix?.length) return r.rows.map((row) => ({ row, at: `${sizeLabel(row.users)} users` }));
  return r.matrix.map((c) => ({
    row: c.row,
    at: `${sizeLabel(c.users)} users, ${c.layout} ids, ${c.medianMs} ms median`,
    best: c.unbeatableS === undefined ? undefined : c.unbeatableS / c.row.rateFloorS,
  }));
}

function missNotes(r: BenchReport): string[] {
  const out: string[] = [];
  for (const { row, at, best } of judgedSyncs(r)) {
    if (row.verdicts.requests === 'MISS') {
      out.push(
        `- **Requests at ${at}: ${row.requests} for a floor of ${row.requestFloor} (${row.requestRatio.toFixed(3)}).** ` +
          `Extra requests by route: ${overheadNotes(row).join('; ')}. The target allows ` +
          `${(row.requestFloor * (TARGETS.requestRatio - 1)).toFixed(1)} extra requests at this size. A dense tenant ` +
          'read with no changes during the sync costs exactly the floor; extra pages mean sparse ids, records created ' +
          'during the sync, or retried answers. See docs/benchmarks.md, "Request overhead".',
      );
    }
    if (row.verdicts.wall === 'MISS') {
      out.push(
        `- **Wall time at ${at}: ${row.wallS.toFixed(1)} s for a rate-limit floor of ${row.rateFloorS.toFixed(1)} s ` +
          `(${row.wallRatio.toFixed(3)}).** requests/${r.rate} = ${row.requestsAtRateS.toFixed(1)} s; token + lists ` +
          `${row.listsS.toFixed(2)} s, finish ${row.finishS.toFixed(2)} s, ${row.throttled} × 429, ${row.retries} retries. ` +
          (best === undefined
            ? ''
            : `No client beats ${best.toFixed(2)} × the floor on this cell${best > TARGETS.wallRatio ? ', so the target cannot be met here' : ''}. `) +
          'See docs/benchmarks.md, "Wall time".',
      );
    }
    if (row.verdicts.rss === 'MISS') {
      out.push(
        `- **Peak RSS at ${at}: ${row.peakRssMb.toFixed(0)} MB** (before the sync: ${row.baselineRssMb.toFixed(0)} MB). See docs/benchmarks.md, "Memory".`,
      );
    }
    if (!row.exact) {
      out.push(
        `- **The c1z at ${at} did not hold exactly the tenant**: ${row.grants} grants written, ${row.truth.grants} in the tenant.`,
      );
    }
  }
  if (r.writer?.verdict === 'MISS') {
    out.push(
      `- **Writer: ${Math.round(r.writer.writerPerS)} grants/s end to end** (grants phase alone ${Math.round(r.writer.grantsPhasePerS)}/s). ` +
        'See docs/benchmarks.md, "Writer".',
    );
  }
  if (r.soak) out.push(...soakMisses(r.soak));
  return out;
}

/** PASS and MISS over every target a run judged: each sync of the grid, the writer, the soak. */
export function verdictCounts(r: Pick<BenchReport, 'rows' | 'matrix' | 'writer' | 'soak'>): {
  pass: number;
  miss: number;
} {
  const verdicts = [
    ...judgedSyncs(r).flatMap(({ row }) => Object.values(row.verdicts)),
    ...(r.writer ? [r.writer.verdict] : []),
    ...(r.soak ? Object.values(r.soak.verdicts) : []),
  ];
  return {
    pass: verdicts.filter((v) => v === 'PASS').length,
    miss: verdicts.filter((v) => v === 'MISS').length,
  };
}

export function renderMarkdown(r: BenchReport): string {
  const m = r.machine;
  const { pass, miss } = verdictCounts(r);
  const misses = missNotes(r);
  const lines = [
    '# Benchmarks',
    '',
    `Generated by \`bench/run.ts\` on ${r.date}; a re-run overwrites this file. How to run it, what each`,
    'row means and how the floors are computed: [docs/benchmarks.md](docs/benchmarks.md).',
    '',
    '## Run',
    '',
    '```sh',
    r.command,
    '```',
    '',
    `- Machine: ${m.nproc} CPUs (\`nproc\`), ${m.cpu}, ${m.ramGb.toFixed(1)} GB RAM, ${m.os}`,
    `- Load average (1/5/15 min) at the start ${m.loadAverage.map((l) => l.toFixed(2)).join(' / ')}, at the end ` +
      `${r.loadAverageAfter.map((l) => l.toFixed(2)).join(' / ')}: anything else running on the machine shows in the timings`,
    `- Node ${m.node}; commit ${m.commit}${m.uncommitted.length ? ` with uncommitted changes in ${m.uncommitted.join(', ')}` : ''}`,
    `- Simulator: lognormal latency (median ${r.latencyMs} ms for the detailed table below), rate limit ${r.rate} req/s with a burst of ${r.burst}, one fresh`,
    `  simulator per cell in its own process; each sync in its own process (at most ${Math.max(...r.rows.map((row) => row.lanes))} users requests in flight,`,
    `  client-side limiter set to ${r.rate} req/s burst ${r.burst}, which keeps its safety margin under them:`,
    `  ${fix(r.rate * RATE_SAFETY_FACTOR, 2)} req/s, burst ${r.burst - BURST_SAFETY_MARGIN}; see docs/client.md).`,
    '',
    `Targets: **${pass} PASS, ${miss} MISS**.`,
    '',
    ...(r.matrix?.length
      ? [
          '## Latency × id layout × size',
          '',
          'Each cell: requests / request floor, then wall time / rate-limit floor (floor / 25 s). Lognormal',
          'response time with the given median and p99 = 3 × median, on every response (token included).',
          '"Best possible": the wall time no client can beat on that latency model, on average, over the same',
          'floor (the token round trip, every request sent as fast as the bucket admits, the last answer;',
          'bench/lib/oracle.ts). Where it is above the target, the target cannot be met on that cell.',
          `Targets: requests ≤ ${TARGETS.requestRatio} × floor + ${TARGETS.requestSlack}; wall ≤ ${TARGETS.wallRatio} × rate-limit floor from 10k users.`,
          '',
          ...matrixMarkdown(r.matrix),
          '',
        ]
      : []),
    '## Syncs',
    '',
    markdownTable(sizeTable(r.rows, r.rate)),
    '',
    'Requests above the floor, by route:',
    '',
    ...r.rows.map((row) => `- ${sizeLabel(row.users)} users: ${overheadNotes(row).join('; ')}`),
    '',
  ];
  if (r.writer) {
    lines.push(
      '## c1z writer micro-benchmark',
      '',
      `\`bench/c1z-writer.ts --grants ${r.writer.grants} --users ${r.writer.users}\` in its own process.`,
      '',
      markdownTable(writerTable(r.writer)),
      '',
      ...(r.writerOutput ? ['Its own output:', '', '```', r.writerOutput, '```', ''] : []),
    );
  }
  if (r.soak) lines.push(...soakMarkdown(r.soak));
  lines.push('## Targets missed', '');
  if (misses.length) lines.push(...misses);
  else lines.push('None.');
  lines.push(
    '',
    `Targets: requests ≤ ${TARGETS.requestRatio} × floor + ${TARGETS.requestSlack} at every size; wall ≤ ${TARGETS.wallRatio} × rate-limit floor from ` +
      `${TARGETS.wallFromUsers.toLocaleString('en-US')} users; sync peak RSS ≤ ${TARGETS.rssMb} MB up to ` +
      `${TARGETS.rssUpToUsers.toLocaleString('en-US')} users; writer ≥ ${TARGETS.writerGrantsPerSecond.toLocaleString('en-US')} grants/s.`,
    '',
  );
  return lines.join('\n');
}
