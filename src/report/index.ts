/**
 * `report`: a c1z file as one self-contained HTML page for an access review (see
 * docs/access-reviews.md). The page is written next to its destination and renamed into place, so
 * an earlier report stays intact until the new one is complete.
 */
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { C1zReader, type SyncRun } from '../c1z/reader.js';
import { AccessDirectory } from '../c1z/directory.js';
import { runAllQueries, type ReviewOptions } from '../c1z/review-queries.js';
import { ConfigError, CoupaConnectorError } from '../errors.js';
import { buildReportData, type ReportSummary } from './data.js';
import { changesFromDiff, type SyncChanges } from './changes.js';
import { diffSyncs } from '../c1z/diff.js';
import { renderReportHtml } from './html.js';
import { checkOutputTarget } from '../util/output-target.js';

export { buildReportData, type ReportData, type ReportSummary } from './data.js';
export { changesFromDiff, type SyncChanges } from './changes.js';
export { renderReportHtml } from './html.js';

export interface ReportOptions {
  file: string;
  out: string;
  syncId?: string;
  title?: string;
  review?: ReviewOptions;
  /** Compare with this sync instead of the one before; false: no changes section. */
  previousSyncId?: string | false;
  /** Fixed clock for reproducible output (tests). */
  now?: Date;
  onPhase?: (phase: 'reading' | 'comparing' | 'writing') => void;
}

export interface ReportResult {
  path: string;
  bytes: number;
  summary: ReportSummary;
  syncId: string | null;
  previousSyncId: string | null;
  changes: SyncChanges['counts'] | null;
  durationMs: number;
}

export class ReportWriteError extends CoupaConnectorError {
  constructor(path: string, cause: unknown) {
    super(
      `Cannot write the report to ${path} (${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message}).`,
      {
        hint: 'Check that the folder exists and is writable; an earlier report there was left untouched.',
        cause,
      },
    );
  }
}

/** The finished sync before `current` in a newest-first list of runs (reader.syncRuns()). */
export function previousSync(runs: SyncRun[], current: SyncRun | null): SyncRun | undefined {
  if (!current) return undefined;
  const at = runs.findIndex((r) => r.syncId === current.syncId);
  return runs.slice(at + 1).find((r) => r.endedAt !== null && r.syncId !== current.syncId);
}

export async function generateReport(opts: ReportOptions): Promise<ReportResult> {
  const started = performance.now();
  // A wrong --out is found now (exit 2), not after a large file was read and compared.
  const target = await checkOutputTarget(opts.out, '--out', 'nothing was read or written');
  opts.onPhase?.('reading');
  const reader = await C1zReader.open(opts.file, { syncId: opts.syncId });
  let dir: AccessDirectory;
  let prevRun: SyncRun | undefined;
  let changes: SyncChanges | null = null;
  try {
    dir = AccessDirectory.load(reader);
    if (opts.previousSyncId !== false) {
      const runs = reader.syncRuns();
      if (opts.previousSyncId !== undefined) {
        prevRun = runs.find((r) => r.syncId === opts.previousSyncId);
        if (!prevRun) {
          throw new ConfigError(
            `--compare-with ${opts.previousSyncId}: ${opts.file} holds no such sync.`,
            `List its syncs with \`syncs -f ${opts.file}\`.`,
          );
        }
      } else {
        prevRun = previousSync(runs, reader.sync);
      }
    }
    if (prevRun) {
      opts.onPhase?.('comparing');
      // The same decoded database seen at the earlier sync: no second decompression, and the
      // differences are found by SQLite on the indexed keys, so only changed rows are decoded.
      changes = changesFromDiff(diffSyncs(reader.forSync(prevRun.syncId), reader));
    }
  } finally {
    reader.close();
  }
  opts.onPhase?.('writing');
  const queries = runAllQueries(dir, opts.review);
  const data = buildReportData(dir, queries, {
    title: opts.title ?? `Access review: ${basename(opts.file)}`,
    file: basename(opts.file),
    generatedAt: opts.now ?? new Date(),
    changes,
  });
  const html = renderReportHtml(data);
  const bytes = await writeAtomically(target, html);
  return {
    path: opts.out,
    bytes,
    summary: data.summary,
    syncId: dir.sync?.syncId ?? null,
    previousSyncId: prevRun?.syncId ?? null,
    changes: changes?.counts ?? null,
    durationMs: performance.now() - started,
  };
}

async function writeAtomically(path: string, text: string): Promise<number> {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  const buf = Buffer.from(text, 'utf8');
  try {
    const fh = await open(tmp, 'w', 0o600);
    try {
      await fh.writeFile(buf);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw new ReportWriteError(path, err);
  }
  return buf.length;
}
