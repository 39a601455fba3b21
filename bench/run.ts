/**
 * The benchmark of issue 7: full syncs against the simulator at Coupa's limits, plus the c1z
 * writer micro-benchmark. See docs/benchmarks.md.
 *
 *   npm run bench                          # 1k, 10k, 100k users; writes BENCHMARKS.md
 *   npm run bench -- --sizes 1000,10000    # other sizes
 *   npm run bench -- --quick               # CI size (500, 2000 users; 100k-grant writer); prints only
 *   npm run bench -- --quick --out x.md --json x.json
 *   npm run bench -- --no-soak             # skip the service-mode soak (bench/soak.ts)
 *   npm run bench -- --only report         # only the HTML report at 100k users; updates its section
 *   npm run bench -- --report-users 20000  # the report at another size (0: leave it out)
 *
 * Each size gets a fresh simulator in its own process (100 ms latency, 25 req/s, burst 20) and a
 * sync in another, so the sync's peak RSS is its own. Timings are measured, not asserted: the
 * verdicts are printed next to the numbers.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { RequestCounters } from '../src/simulator/index.js';
import { BenchChildError, forkScript, lastJsonLine, REPO_ROOT, runScript } from './lib/child.js';
import { describeMachine } from './lib/machine.js';
import {
  consoleTable,
  parseWriterOutput,
  sizeRow,
  sizeTable,
  writerRow,
  writerTable,
  type SizeRow,
  type SyncChildResult,
  type WriterRow,
} from './lib/report.js';
import { ensureBuilt } from './lib/build.js';
import {
  matrixMarkdown,
  renderMarkdown,
  overheadNotes,
  verdictCounts,
  type MatrixCell,
} from './lib/markdown.js';
import { tenantFor, type TruthCounts } from './lib/tenant.js';
import { runSoak, soakSummary, soakTable, SOAK_DEFAULTS, type SoakResult } from './lib/soak.js';
import { reportBenchMarkdown, spliceReportSection, type ReportBenchResult } from './lib/report-bench.js';
import { unbeatableWallS } from './lib/oracle.js';

const { values } = parseArgs({
  options: {
    sizes: { type: 'string' },
    quick: { type: 'boolean', default: false },
    out: { type: 'string' },
    json: { type: 'string' },
    'writer-grants': { type: 'string' },
    'no-writer': { type: 'boolean', default: false },
    // The service-mode soak: back-to-back sync tasks through the daemon (bench/lib/soak.ts).
    'no-soak': { type: 'boolean', default: false },
    'soak-tasks': { type: 'string' },
    // The HTML report benchmark (bench/report.ts): users of its tenant; 0 leaves it out.
    'report-users': { type: 'string' },
    // `report`: run only the report benchmark and replace its section of the existing BENCHMARKS.md.
    only: { type: 'string' },
    // Rebuild dist/ even if it looks newer than src/.
    build: { type: 'boolean', default: false },
    // Use dist/ as it is (the test does: it must not rewrite dist/ under other running tests).
    'no-build': { type: 'boolean', default: false },
    // Lognormal medians of the simulator's response time, ms (p99 = 3 × median), and id layouts.
    latencies: { type: 'string' },
    layouts: { type: 'string' },
    rate: { type: 'string', default: '25' },
    burst: { type: 'string', default: '20' },
    // Writes a V8 CPU profile of each sync child there (open in Chrome DevTools or speedscope).
    'cpu-prof': { type: 'string' },
  },
});

function positiveInts(flag: string, text: string): number[] {
  const list = text.split(',').map((s) => Number(s.trim()));
  if (!list.length || list.some((n) => !Number.isInteger(n) || n <= 0)) {
    console.error(`${flag} takes positive whole numbers separated by commas, got "${text}"`);
    process.exit(2);
  }
  return list;
}

const quick = values.quick;
if (values.only !== undefined && values.only !== 'report') {
  console.error(`--only takes "report", got "${values.only}"`);
  process.exit(2);
}
const onlyReport = values.only === 'report';
const sizes = onlyReport
  ? []
  : positiveInts('--sizes', values.sizes ?? (quick ? '500,2000' : '1000,10000,100000'));
// The quick run is CI's smoke test and has the report's own test (test/report/bench.test.ts) beside it.
const reportUsers =
  values['report-users'] === '0'
    ? 0
    : values['report-users']
      ? positiveInts('--report-users', values['report-users'])[0]!
      : quick
        ? 0
        : 100000;
const writerGrants = positiveInts(
  '--writer-grants',
  values['writer-grants'] ?? (quick ? '100000' : '1000000'),
)[0]!;
const rate = Number(values.rate);
const burst = Number(values.burst);
const latencies = positiveInts('--latencies', values.latencies ?? (quick ? '100' : '100,500,1000,2000'));
const layouts = (values.layouts ?? 'dense,sparse').split(',').map((l) => l.trim());
if (layouts.some((l) => l !== 'dense' && l !== 'sparse')) {
  console.error(`--layouts takes dense and/or sparse, got "${values.layouts}"`);
  process.exit(2);
}
const latency = latencies[0]!;
// A quick run is a smoke test: it must not overwrite the real numbers unless asked to.
const outPath = values.out ?? (quick ? undefined : join(REPO_ROOT, 'BENCHMARKS.md'));
const command =
  process.env.npm_lifecycle_event === 'bench'
    ? `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`
    : `node --import tsx bench/run.ts ${process.argv.slice(2).join(' ')}`.trim();

interface SimReady {
  type: 'ready';
  url: string;
  clientId: string;
  clientSecret: string;
  truth: TruthCounts;
}

/** Starts the simulator child and resolves once it listens; rejects if it dies first. */
function startSim(users: number, layout: string, medianMs: number) {
  const child = forkScript('sim-child.mjs', [
    '--tenant',
    JSON.stringify({ ...tenantFor(users), ids: layout }),
    '--latency-model',
    JSON.stringify({ kind: 'lognormal', medianMs, p99Ms: 3 * medianMs, seed: users + medianMs }),
    '--rate',
    String(rate),
    '--burst',
    String(burst),
  ]);
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout!.resume();
  const ready = new Promise<SimReady>((resolveReady, reject) => {
    child.on('message', (m: { type: string }) => {
      if (m.type === 'ready') resolveReady(m as SimReady);
    });
    child.once('exit', (code) => reject(new BenchChildError(`simulator exited with ${code}:\n${stderr}`)));
  });
  const counters = () =>
    new Promise<RequestCounters>((resolveCounters) => {
      const onMessage = (m: { type: string; counters?: RequestCounters }) => {
        if (m.type !== 'counters') return;
        child.off('message', onMessage);
        resolveCounters(m.counters!);
      };
      child.on('message', onMessage);
      child.send({ type: 'counters' });
    });
  const stop = () =>
    new Promise<void>((resolveStop) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolveStop();
      child.once('exit', () => resolveStop());
      child.kill('SIGTERM');
    });
  return { ready, counters, stop };
}

const workDir = mkdtempSync(join(tmpdir(), 'coupa-bench-'));
const machine = describeMachine();
const started = new Date();
const rows: SizeRow[] = [];
const matrix: MatrixCell[] = [];
let writer: WriterRow | undefined;
let writerOutput: string | undefined;
let soak: SoakResult | undefined;
let reportBench: ReportBenchResult | undefined;
try {
  const build = ensureBuilt(values.build ? 'always' : values['no-build'] ? 'never' : 'auto');
  console.log(
    `coupa-connector benchmark: sizes ${sizes.join(', ')}; ids ${layouts.join(', ')}; lognormal latency medians ${latencies.join(', ')} ms; ${rate} req/s, burst ${burst}`,
  );
  console.log(
    `machine: ${machine.nproc} CPUs, ${machine.cpu}, ${machine.ramGb.toFixed(1)} GB, Node ${machine.node}`,
  );
  console.log(`dist/: ${build}; load average ${machine.loadAverage.map((l) => l.toFixed(2)).join(' ')}\n`);
  for (const users of sizes)
    for (const layout of layouts)
      for (const medianMs of latencies) {
        const label = `${users} users, ${layout} ids, ${medianMs} ms median`;
        const loadBefore = loadavg()[0]!;
        const sim = startSim(users, layout, medianMs);
        try {
          const simStart = performance.now();
          const ready = await sim.ready;
          console.log(
            `[${label}] simulator ready in ${((performance.now() - simStart) / 1000).toFixed(1)} s; syncing…`,
          );
          const out = join(workDir, `sync-${users}.c1z`);
          const stdout = await runScript(
            'sync-child.mjs',
            [
              '--url',
              ready.url,
              '--client-id',
              ready.clientId,
              '--out',
              out,
              '--rate',
              String(rate),
              '--burst',
              String(burst),
            ],
            { BENCH_CLIENT_SECRET: ready.clientSecret },
            values['cpu-prof'] ? ['--cpu-prof', '--cpu-prof-dir', resolve(values['cpu-prof'])] : [],
          );
          const result = lastJsonLine<SyncChildResult>(stdout, 'sync-child.mjs');
          const row = sizeRow(users, ready.truth, await sim.counters(), result, rate);
          row.walkStats = result.walkStats;
          if (medianMs === latency && layout === layouts[0]) rows.push(row);
          const unbeatableS = unbeatableWallS({
            requests: row.requestFloor,
            perSecond: rate,
            burst,
            latency: { kind: 'lognormal', medianMs, p99Ms: 3 * medianMs },
          });
          matrix.push({ users, layout, medianMs, row, unbeatableS, loadBefore, loadAfter: loadavg()[0]! });
          console.log(consoleTable(sizeTable([row], rate)));
          for (const note of overheadNotes(row)) console.log(`  ${note}`);
          console.log(
            `  no client can beat ${unbeatableS.toFixed(1)} s here on average (${(unbeatableS / row.rateFloorS).toFixed(2)} × the rate-limit floor; bench/lib/oracle.ts)`,
          );
          console.log(`  load average ${loadBefore.toFixed(2)} → ${loadavg()[0]!.toFixed(2)}\n`);
          rmSync(out, { force: true });
          // Partial results survive an interrupted run.
          if (values.json) writeFileSync(resolve(values.json), `${JSON.stringify({ matrix }, null, 2)}\n`);
        } finally {
          await sim.stop();
        }
      }
  if (reportUsers > 0) {
    const stdout = await runScript('report.ts', ['--users', String(reportUsers)]);
    reportBench = lastJsonLine<ReportBenchResult>(stdout, 'report.ts');
    console.log(reportBenchMarkdown(reportBench));
  }
  if (!values['no-writer'] && !onlyReport) {
    console.log(`[writer] ${writerGrants} grants…`);
    const stdout = await runScript('c1z-writer.ts', [
      '--grants',
      String(writerGrants),
      '--users',
      String(Math.max(1, Math.round(writerGrants / 10))),
    ]);
    writer = writerRow(parseWriterOutput(stdout));
    writerOutput = stdout.trim();
    console.log(consoleTable(writerTable(writer)));
    console.log('');
  }
  if (!values['no-soak'] && !onlyReport) {
    const soakSize = quick ? SOAK_DEFAULTS.quick : SOAK_DEFAULTS.full;
    const tasks = values['soak-tasks']
      ? positiveInts('--soak-tasks', values['soak-tasks'])[0]!
      : soakSize.tasks;
    console.log(
      `[soak] ${tasks} full-sync tasks, ${soakSize.users}-user tenant, through the daemon process…`,
    );
    soak = await runSoak({ tasks, users: soakSize.users, log: (l) => console.log(l) });
    console.log(consoleTable(soakTable(soak)));
    for (const line of soakSummary(soak)) console.log(line);
    console.log('');
  }
} finally {
  rmSync(workDir, { recursive: true, force: true });
}

if (matrix.length > 1) {
  console.log('Latency × id layout × size (requests / floor; wall / rate-limit floor):');
  console.log(matrixMarkdown(matrix).join('\n'));
}
const { pass, miss } = verdictCounts({ rows, matrix, writer, soak });
console.log(`\ntargets: ${pass} PASS, ${miss} MISS`);
const mismatched = matrix.map((c) => c.row).filter((r) => !r.exact);
if (mismatched.length) {
  console.error(
    `the c1z did not hold exactly the tenant at ${mismatched.map((r) => r.users).join(', ')} users`,
  );
  process.exitCode = 1;
}

/** Aligned tables read better as plain text; prettier is a dev dependency, so do without it if absent. */
async function tidyMarkdown(md: string): Promise<string> {
  try {
    const prettier = await import('prettier');
    return await prettier.format(md, { parser: 'markdown', printWidth: 110, proseWrap: 'preserve' });
  } catch {
    return md;
  }
}

const report = {
  date: started.toISOString(),
  command,
  machine,
  loadAverageAfter: loadavg(),
  latencyMs: latency,
  rate,
  burst,
  rows,
  matrix,
  writer,
  writerOutput,
  soak,
  reportBench,
};
if (outPath) {
  const target = resolve(outPath);
  // --only report keeps every other figure of the file as it was.
  let md = onlyReport ? readFileSync(target, 'utf8') : renderMarkdown(report);
  if (reportBench) md = spliceReportSection(md, reportBenchMarkdown(reportBench));
  writeFileSync(target, await tidyMarkdown(md));
  console.log(`wrote ${outPath}${onlyReport ? ' (report section only)' : ''}`);
}
if (values.json) writeFileSync(resolve(values.json), `${JSON.stringify(report, null, 2)}\n`);
