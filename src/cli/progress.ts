import cliProgress from 'cli-progress';
import type { SyncProgress } from '../connector/sync.js';

export interface ProgressReporter {
  update(p: SyncProgress): void;
  stop(): void;
}

const noop: ProgressReporter = { update() {}, stop() {} };

/**
 * A progress bar on stderr: users synced out of the estimated total, requests and request rate.
 * Only on a terminal: on a pipe or in CI it would fill logs with carriage-return frames.
 */
export function createProgress(
  enabled: boolean,
  stream: NodeJS.WriteStream = process.stderr,
): ProgressReporter {
  if (!enabled || !stream.isTTY) return noop;
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format:
        ' {phase} [{bar}] {value}/{total} users | {requests} requests | {rate} req/s | {duration_formatted}',
      barCompleteChar: '█',
      barIncompleteChar: '░',
      hideCursor: true,
      clearOnComplete: false,
      fps: 10,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(p) {
      const total = Math.max(p.usersEstimated ?? 0, p.usersSynced);
      const payload = {
        phase:
          p.phase === 'lists' ? 'listing groups' : p.phase === 'users' ? 'syncing users' : 'writing file ',
        requests: p.requests,
        rate: p.elapsedMs > 0 ? ((p.requests * 1000) / p.elapsedMs).toFixed(1) : '0.0',
      };
      if (!started) {
        bar.start(total, p.usersSynced, payload);
        started = true;
      } else {
        if (total !== bar.getTotal()) bar.setTotal(total);
        bar.update(p.usersSynced, payload);
      }
    },
    stop() {
      if (started) bar.stop();
    },
  };
}
