import cliProgress from 'cli-progress';
import type { SyncProgress } from '../connector/sync.js';
import { divertStderrLogs, type Logger } from '../log.js';

export interface ProgressReporter {
  update(p: SyncProgress): void;
  stop(): void;
}

const noop: ProgressReporter = { update() {}, stop() {} };

interface Payload {
  phase: SyncProgress['phase'];
  requests: number;
  elapsedMs: number;
  /** Users read so far / estimated total; the bar's own value lags a frame behind. */
  users: number;
  total: number;
}

const PHASE: Record<SyncProgress['phase'], string> = {
  lists: 'listing groups',
  users: 'syncing users',
  writing: 'writing file',
};

const n = (v: number) => v.toLocaleString('en-US');

export function formatEta(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/**
 * One bar line that fits `width` columns (one column spare, so the terminal never wraps it):
 * phase, bar, users done/total, requests, request rate and ETA. The bar takes what the text
 * leaves; on narrow terminals the least useful parts go first.
 */
export function progressLine(p: Payload, width: number): string {
  const secs = p.elapsedMs / 1000;
  const rate = secs > 0 ? p.requests / secs : 0;
  const usersPerSec = secs > 0 ? p.users / secs : 0;
  const eta =
    p.phase === 'writing'
      ? 'finishing'
      : p.total > 0 && usersPerSec > 0
        ? `ETA ${formatEta((p.total - p.users) / usersPerSec)}`
        : 'ETA ?';
  const counts = `${n(p.users)}/${p.total > 0 ? n(p.total) : '?'} users`;
  const parts = [`${n(p.requests)} req`, `${rate.toFixed(1)} req/s`, eta];
  const max = Math.max(20, width - 1);
  const fraction = p.total > 0 ? Math.min(1, p.users / p.total) : 0;
  // Drop trailing detail until a bar of at least 10 cells fits, then give the bar the rest.
  for (let keep = parts.length; keep >= 0; keep--) {
    const tail = [counts, ...parts.slice(0, keep)].join(' | ');
    const head = ` ${PHASE[p.phase]} `;
    const room = max - head.length - tail.length - 3; // "[" "]" and a space
    if (room >= 10 || keep === 0) {
      const size = Math.max(0, Math.min(40, room));
      const done = Math.round(fraction * size);
      const line = `${head}[${'█'.repeat(done)}${'░'.repeat(size - done)}] ${tail}`;
      return line.length > max ? line.slice(0, max) : line;
    }
  }
  return '';
}

/**
 * The users the bar counts to: unknown (0, shown as "?") until the walk has an estimate, never less
 * than what is already read, and exactly that once the users are all read (the estimate can be a
 * little off either way, and a bar ending at 98% or 102% would look like a lost user).
 */
export function barTotal(p: Pick<SyncProgress, 'phase' | 'usersSynced' | 'usersEstimated'>): number {
  if (p.phase === 'writing') return p.usersSynced;
  return p.usersEstimated === undefined ? 0 : Math.max(p.usersEstimated, p.usersSynced);
}

/**
 * A progress bar on stderr, only on a terminal: on a pipe or in CI it would fill logs with
 * carriage-return frames. While it runs, log lines bound for stderr are printed above it (the bar
 * redraws below them) instead of over it, and the bar follows the terminal's width as it changes.
 */
export function createProgress(
  enabled: boolean,
  stream: NodeJS.WriteStream = process.stderr,
): ProgressReporter {
  if (!enabled || !stream.isTTY) return noop;
  const multi = new cliProgress.MultiBar(
    {
      stream,
      format: (_opts, _params, payload: Payload) => progressLine(payload, stream.columns || 80),
      hideCursor: true,
      clearOnComplete: false,
      // Redraw every frame: after a log line the bar must come back even if its text is the same.
      forceRedraw: true,
      fps: 10,
      gracefulExit: false,
      // Keep the terminal wrapping: a long log line printed above the bar wraps instead of being cut.
      linewrap: true,
    },
    cliProgress.Presets.shades_classic,
  );
  let bar: cliProgress.SingleBar | undefined;
  let stopped = false;
  return {
    update(p) {
      if (stopped) return;
      const total = barTotal(p);
      const payload: Payload = {
        phase: p.phase,
        requests: p.requests,
        elapsedMs: p.elapsedMs,
        users: p.usersSynced,
        total,
      };
      if (!bar) {
        bar = multi.create(total, p.usersSynced, payload);
        divertStderrLogs((line) => multi.log(line.endsWith('\n') ? line : `${line}\n`));
      } else {
        if (total !== bar.getTotal()) bar.setTotal(total);
        bar.update(p.usersSynced, payload);
      }
    },
    stop() {
      if (stopped) return;
      stopped = true;
      divertStderrLogs(undefined);
      if (!bar) return;
      // Print what is still buffered above the bar, then leave the final bar on its own line.
      multi.update();
      multi.stop();
    },
  };
}

/** How often a sync without a bar logs where it is. */
export const PROGRESS_LOG_EVERY_MS = 30_000;

/**
 * Where there is no bar (a pipe, CI, a container's log), an info record every 30 s: a long sync
 * would otherwise say nothing between its start and its `sync finished` record, and whoever reads
 * the log cannot tell a slow tenant from a hung job. A sync shorter than that logs none.
 */
export function createProgressLog(
  logger: Pick<Logger, 'info'>,
  everyMs = PROGRESS_LOG_EVERY_MS,
  now: () => number = Date.now,
): ProgressReporter {
  const started = now();
  let next = started + everyMs;
  return {
    update(p) {
      const t = now();
      if (t < next) return;
      next = t + everyMs;
      const total = barTotal(p);
      logger.info(
        {
          phase: p.phase,
          users: p.usersSynced,
          ...(total > 0 ? { usersEstimated: total } : {}),
          requests: p.requests,
          elapsedMs: p.elapsedMs,
        },
        'sync progress',
      );
    },
    stop() {},
  };
}
