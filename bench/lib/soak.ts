/**
 * The service-mode soak: one real daemon process (`coupa-connector` with BATON_CLIENT_ID) runs many
 * full-sync tasks back to back against the fake ConductorOne and the Coupa simulator, while this
 * process watches its resident memory, open file descriptors and temp files from /proc. A leak of
 * any of them grows with the task count, so the last quarter of the run is compared with the first.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSimulator } from '../../src/simulator/index.js';
import { startFakeC1 } from '../../src/simulator/c1/index.js';
import { REPO_ROOT } from './child.js';
import { markdownTable } from './report.js';
import { countFiles, openFds, procAvailable, rssBytes } from './proc.js';

export const SOAK_TARGETS = {
  /** Mean RSS of the last quarter of tasks over that of the first quarter. */
  rssGrowth: 1.1,
} as const;

/** `npm run bench` and `--quick`: a small tenant, so the run measures the loop, not Coupa. */
export const SOAK_DEFAULTS = {
  full: { tasks: 200, users: 100 },
  quick: { tasks: 12, users: 50 },
} as const;

export interface SoakOptions {
  tasks: number;
  users: number;
  /**
   * A forced full GC (and a heap reading after it) every this many tasks; 0 = never. Default:
   * 40 readings over the run. Back-to-back tasks leave V8 no idle time to collect in, which a
   * real daemon (a sync every few hours) has; without it the heap grows lazily and RSS with it.
   */
  gcEvery?: number;
  /** Time allowed for one task before the soak gives up. */
  taskTimeoutMs?: number;
  log?: (line: string) => void;
}

/** Taken right after each FinishTask arrived at the fake. */
export interface SoakSample {
  task: number;
  atS: number;
  rssMb: number;
  fds: number;
  sockets: number;
  tempFiles: number;
  /** nodejs_heap_size_used_bytes from the daemon's own /metrics. */
  heapUsedMb?: number;
  /** nodejs_external_memory_bytes: Buffers and native objects V8 knows of. */
  externalMb?: number;
  /** V8 heap used right after a forced full GC (every few tasks only: a GC changes what it measures). */
  heapAfterGcMb?: number;
}

export interface QuartileFigures {
  firstQuartile: number;
  lastQuartile: number;
  max: number;
}

export interface SoakResult {
  tasks: number;
  users: number;
  /** Forced full GC every this many tasks (0 = never). */
  gcEvery: number;
  succeeded: number;
  failed: number;
  wallS: number;
  /** FinishTask to FinishTask, mean over the run. */
  meanTaskS: number;
  startupRssMb: number;
  /** Means per quartile; max over every sample, the 250 ms background ones included. */
  rssMb: QuartileFigures;
  heapUsedMb?: QuartileFigures;
  heapAfterGcMb?: QuartileFigures;
  /** Max per quartile (a leak shows in the high-water mark) and overall. */
  fds: QuartileFigures;
  sockets: QuartileFigures;
  tempFiles: QuartileFigures & { afterStop: number };
  /** What the daemon's /metrics said at the end. */
  metrics?: { fullSyncSuccess: number; coupaRequests: number; lastSyncAgeS: number };
  exitCode: number | null;
  exitSignal: string | null;
  verdicts: { rss: Verdict; fds: Verdict; tempFiles: Verdict; exit: Verdict };
  samples: SoakSample[];
}

export type Verdict = 'PASS' | 'MISS';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

function sample(text: string, series: string): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith(series + ' ')) return Number(line.slice(series.length + 1));
  }
  return undefined;
}

async function scrape(url: string): Promise<string | undefined> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
    return res.ok ? await res.text() : undefined;
  } catch {
    return undefined;
  }
}

/** Memory of the daemon after a full GC, through bench/soak-probe.mjs; undefined if it does not answer. */
function measureAfterGc(child: ChildProcess): Promise<{ heapUsed: number; rss: number } | undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => done(undefined), 5000);
    const onMessage = (m: { type?: string; heapUsed?: number; rss?: number }) => {
      if (m.type === 'memory') done({ heapUsed: m.heapUsed ?? 0, rss: m.rss ?? 0 });
    };
    function done(v: { heapUsed: number; rss: number } | undefined) {
      clearTimeout(timer);
      child.off('message', onMessage);
      resolve(v);
    }
    child.on('message', onMessage);
    child.send({ type: 'measure' });
  });
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
const max = (xs: number[]) => xs.reduce((a, b) => Math.max(a, b), 0);

/** First and last quarter of the per-task samples (at least one sample each). */
function quarters<T>(xs: T[]): [T[], T[]] {
  const q = Math.max(1, Math.floor(xs.length / 4));
  return [xs.slice(0, q), xs.slice(xs.length - q)];
}

function figures(
  samples: SoakSample[],
  pick: (s: SoakSample) => number | undefined,
  per: 'mean' | 'max',
  background: number[] = [],
): QuartileFigures {
  const values = samples.map(pick).filter((v): v is number => v !== undefined);
  const [first, last] = quarters(values);
  const agg = per === 'mean' ? mean : max;
  return { firstQuartile: agg(first), lastQuartile: agg(last), max: max([...values, ...background]) };
}

export async function runSoak(opts: SoakOptions): Promise<SoakResult> {
  if (!procAvailable()) throw new Error('The soak reads /proc/<pid>: it runs on Linux only.');
  const log = opts.log ?? (() => {});
  const gcEvery = opts.gcEvery ?? Math.max(1, Math.floor(opts.tasks / 40));
  const work = mkdtempSync(join(tmpdir(), 'coupa-soak-'));
  // The daemon's temp dir and TMPDIR: every temp file it makes lands here and is counted.
  const temp = join(work, 'tmp');
  // Its working directory (provisioning state would go here; a sync writes nothing).
  const cwd = join(work, 'cwd');
  mkdirSync(temp);
  mkdirSync(cwd);
  const sim = await startSimulator({
    rateLimit: false,
    latencyMs: 0,
    tenant: { users: opts.users, seed: 11 },
  });
  const fake = await startFakeC1({ nextPollMs: 1000, nextHeartbeatMs: 2000 });
  const healthPort = await freePort();
  const metricsUrl = `http://127.0.0.1:${healthPort}/metrics`;
  const background = {
    rss: [] as number[],
    fds: [] as number[],
    sockets: [] as number[],
    temp: [] as number[],
  };
  let timer: NodeJS.Timeout | undefined;
  let stderr = '';
  const child = spawn(
    process.execPath,
    [
      '--expose-gc',
      '--import',
      join(REPO_ROOT, 'bench/soak-probe.mjs'),
      join(REPO_ROOT, 'bin/coupa-connector.js'),
    ],
    {
      cwd,
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        TMPDIR: temp,
        ...fake.env(),
        BATON_BASE_URL: sim.url,
        BATON_COUPA_CLIENT_ID: sim.clientId,
        BATON_COUPA_CLIENT_SECRET: sim.clientSecret,
        BATON_RATE_LIMIT: '0',
        BATON_C1Z_TEMP_DIR: temp,
        // One at a time: each sample falls between two tasks, and "back to back" means just that.
        BATON_TASK_CONCURRENCY: '1',
        BATON_HEALTH_CHECK: 'true',
        BATON_HEALTH_CHECK_PORT: String(healthPort),
        BATON_LOG_LEVEL: 'warn',
        BATON_LOG_FORMAT: 'json',
      },
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    },
  );
  child.stderr!.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-20_000);
  });
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const pid = child.pid!;
  const samples: SoakSample[] = [];
  try {
    const startedAt = performance.now();
    await Promise.race([
      fake.waitForHello({ timeoutMs: 30_000 }),
      exited.then(({ code }) => {
        throw new Error(`the daemon exited with ${code} before its Hello:\n${stderr}`);
      }),
    ]);
    const startupRssMb = (rssBytes(pid) ?? 0) / 2 ** 20;
    timer = setInterval(() => {
      const rss = rssBytes(pid);
      const fds = openFds(pid);
      if (rss !== undefined) background.rss.push(rss / 2 ** 20);
      if (fds) {
        background.fds.push(fds.total);
        background.sockets.push(fds.sockets);
      }
      background.temp.push(countFiles(temp));
    }, 250);
    timer.unref();

    const queued = Array.from({ length: opts.tasks }, () => fake.tasks.syncFull());
    let succeeded = 0;
    let failed = 0;
    const runStart = performance.now();
    for (const [i, task] of queued.entries()) {
      const finish = await fake.waitForFinish(task.id, { timeoutMs: opts.taskTimeoutMs ?? 120_000 });
      if (finish.outcome === 'success') succeeded++;
      else {
        failed++;
        log(`  task ${i + 1}: FinishTask error ${finish.code}: ${finish.message}`);
      }
      const fds = openFds(pid);
      const metrics = await scrape(metricsUrl);
      const heap = metrics ? sample(metrics, 'nodejs_heap_size_used_bytes') : undefined;
      const external = metrics ? sample(metrics, 'nodejs_external_memory_bytes') : undefined;
      const afterGc = gcEvery > 0 && (i + 1) % gcEvery === 0 ? await measureAfterGc(child) : undefined;
      samples.push({
        task: i + 1,
        atS: (performance.now() - runStart) / 1000,
        rssMb: (rssBytes(pid) ?? 0) / 2 ** 20,
        fds: fds?.total ?? 0,
        sockets: fds?.sockets ?? 0,
        tempFiles: countFiles(temp),
        heapUsedMb: heap === undefined ? undefined : heap / 2 ** 20,
        externalMb: external === undefined ? undefined : external / 2 ** 20,
        heapAfterGcMb: afterGc === undefined ? undefined : afterGc.heapUsed / 2 ** 20,
      });
      if ((i + 1) % Math.max(1, Math.floor(opts.tasks / 10)) === 0 || i + 1 === opts.tasks) {
        const s = samples[samples.length - 1]!;
        log(
          `  ${String(i + 1).padStart(4)}/${opts.tasks} tasks  RSS ${s.rssMb.toFixed(1)} MB  fds ${s.fds}  temp files ${s.tempFiles}` +
            (s.heapUsedMb === undefined ? '' : `  heap ${s.heapUsedMb.toFixed(1)} MB`) +
            (s.externalMb === undefined ? '' : `  external ${s.externalMb.toFixed(1)} MB`),
        );
      }
    }
    const runS = (performance.now() - runStart) / 1000;
    clearInterval(timer);

    const finalMetrics = await scrape(metricsUrl);
    const metrics = finalMetrics
      ? {
          fullSyncSuccess:
            sample(finalMetrics, 'coupa_connector_tasks_total{type="full_sync",outcome="success"}') ?? 0,
          coupaRequests: sample(finalMetrics, 'coupa_connector_coupa_requests_total') ?? 0,
          lastSyncAgeS:
            Date.now() / 1000 -
            (sample(finalMetrics, 'coupa_connector_last_successful_sync_timestamp_seconds') ?? 0),
        }
      : undefined;

    child.kill('SIGTERM');
    let stopTimer: NodeJS.Timeout | undefined;
    const exit = await Promise.race([
      exited,
      new Promise<{ code: null; signal: 'timeout' }>((r) => {
        stopTimer = setTimeout(() => r({ code: null, signal: 'timeout' }), 90_000);
      }),
    ]);
    clearTimeout(stopTimer);
    const afterStop = countFiles(temp);

    const rss = figures(samples, (s) => s.rssMb, 'mean', background.rss);
    const fds = figures(samples, (s) => s.fds, 'max', background.fds);
    const sockets = figures(samples, (s) => s.sockets, 'max', background.sockets);
    const tempFiles = { ...figures(samples, (s) => s.tempFiles, 'max', background.temp), afterStop };
    const heap = samples.some((s) => s.heapUsedMb !== undefined)
      ? figures(samples, (s) => s.heapUsedMb, 'mean')
      : undefined;
    const heapAfterGc = samples.some((s) => s.heapAfterGcMb !== undefined)
      ? figures(samples, (s) => s.heapAfterGcMb, 'mean')
      : undefined;
    return {
      tasks: opts.tasks,
      users: opts.users,
      gcEvery,
      succeeded,
      failed,
      wallS: (performance.now() - startedAt) / 1000,
      meanTaskS: runS / opts.tasks,
      startupRssMb,
      rssMb: rss,
      heapUsedMb: heap,
      heapAfterGcMb: heapAfterGc,
      fds,
      sockets,
      tempFiles,
      metrics,
      exitCode: exit.code,
      exitSignal: exit.signal,
      verdicts: {
        rss: rss.lastQuartile <= rss.firstQuartile * SOAK_TARGETS.rssGrowth ? 'PASS' : 'MISS',
        fds: fds.lastQuartile <= fds.firstQuartile ? 'PASS' : 'MISS',
        tempFiles: afterStop === 0 && tempFiles.lastQuartile <= tempFiles.firstQuartile ? 'PASS' : 'MISS',
        exit: exit.code === 0 && failed === 0 ? 'PASS' : 'MISS',
      },
      samples,
    };
  } finally {
    clearInterval(timer);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
    await fake.close();
    await sim.close();
    rmSync(work, { recursive: true, force: true });
  }
}

const f1 = (n: number) => n.toFixed(1);

/** One table row: the figure's quartiles and max, each written by `fmt`. */
function figureRow(
  label: string,
  q: QuartileFigures,
  fmt: (n: number) => string,
  verdict = '',
  max = fmt(q.max),
): string[] {
  return [label, fmt(q.firstQuartile), fmt(q.lastQuartile), max, verdict];
}

/** The soak's figures as rows: label, first quartile, last quartile, max, verdict. */
export function soakTable(r: SoakResult): string[][] {
  const rows: string[][] = [['', 'first quarter', 'last quarter', 'max', 'verdict']];
  rows.push(figureRow('RSS (MB, mean)', r.rssMb, f1, r.verdicts.rss));
  if (r.heapUsedMb) rows.push(figureRow('V8 heap used (MB, mean)', r.heapUsedMb, f1));
  if (r.heapAfterGcMb) rows.push(figureRow('V8 heap after full GC (MB, mean)', r.heapAfterGcMb, f1));
  rows.push(figureRow('open fds (max)', r.fds, String, r.verdicts.fds));
  rows.push(figureRow('  of which sockets', r.sockets, String));
  rows.push(
    figureRow(
      'temp files (max)',
      r.tempFiles,
      String,
      r.verdicts.tempFiles,
      `${r.tempFiles.max} (${r.tempFiles.afterStop} after stop)`,
    ),
  );
  return rows;
}

export function soakSummary(r: SoakResult): string[] {
  return [
    `${r.tasks} full-sync tasks of a ${r.users}-user tenant, one at a time` +
      (r.gcEvery > 0 ? `, a forced full GC every ${r.gcEvery} tasks` : ', no forced GC') +
      `: ${r.succeeded} succeeded, ${r.failed} failed; ` +
      `${f1(r.meanTaskS)} s per task, ${f1(r.wallS)} s in all; RSS ${f1(r.startupRssMb)} MB after the Hello.`,
    `SIGTERM at the end: exit ${r.exitCode ?? r.exitSignal} (${r.verdicts.exit}).`,
    ...(r.metrics
      ? [
          `Its /metrics at the end: ${r.metrics.fullSyncSuccess} successful full syncs, ${r.metrics.coupaRequests} Coupa requests, ` +
            `last successful sync ${f1(r.metrics.lastSyncAgeS)} s before.`,
        ]
      : ['Its /metrics could not be read.']),
  ];
}

/** The BENCHMARKS.md section. */
export function soakMarkdown(r: SoakResult): string[] {
  return [
    '## Service-mode soak',
    '',
    `One daemon process (\`coupa-connector\` with BATON_CLIENT_ID, task concurrency 1, \`--health-check\` on) against the fake ` +
      'ConductorOne and the Coupa simulator (no latency, no rate limit), sampled from /proc after every FinishTask and every 250 ms.',
    '',
    markdownTable(soakTable(r)),
    '',
    ...soakSummary(r).map((l) => `- ${l}`),
    '',
    `Flat means: mean RSS of the last quarter of tasks ≤ ${SOAK_TARGETS.rssGrowth} × the first quarter's; the most open file ` +
      "descriptors and temp files in the last quarter ≤ the first quarter's; no temp file left after SIGTERM.",
    '',
  ];
}

/** One line per soak verdict that missed, for "Targets missed". */
export function soakMisses(r: SoakResult): string[] {
  const out: string[] = [];
  if (r.verdicts.rss === 'MISS') {
    out.push(
      `- **Soak RSS grew: ${f1(r.rssMb.firstQuartile)} → ${f1(r.rssMb.lastQuartile)} MB** over ${r.tasks} tasks. See docs/benchmarks.md, "Soak".`,
    );
  }
  if (r.verdicts.fds === 'MISS') {
    out.push(`- **Soak open fds grew: ${r.fds.firstQuartile} → ${r.fds.lastQuartile}** (max ${r.fds.max}).`);
  }
  if (r.verdicts.tempFiles === 'MISS') {
    out.push(
      `- **Soak temp files: ${r.tempFiles.firstQuartile} → ${r.tempFiles.lastQuartile}, ${r.tempFiles.afterStop} left after stop.**`,
    );
  }
  if (r.verdicts.exit === 'MISS') {
    out.push(`- **Soak: ${r.failed} task(s) failed, exit ${r.exitCode ?? r.exitSignal} after SIGTERM.**`);
  }
  return out;
}

/**
 * `markdown` with its soak section replaced by `section`, or `section` added before "## Targets
 * missed" (or at the end) when it has none.
 */
export function replaceSoakSection(markdown: string, section: string[]): string {
  const lines = markdown.split('\n');
  const start = lines.findIndex((l) => l === '## Service-mode soak');
  if (start >= 0) {
    let end = lines.findIndex((l, i) => i > start && l.startsWith('## '));
    if (end < 0) end = lines.length;
    lines.splice(start, end - start, ...section);
  } else {
    const at = lines.findIndex((l) => l === '## Targets missed');
    lines.splice(at >= 0 ? at : lines.length, 0, ...section);
  }
  return lines.join('\n');
}
