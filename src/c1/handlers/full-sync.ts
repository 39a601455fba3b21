import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { syncToC1z, type SyncClient } from '../../connector/sync.js';
import { C1zWriter } from '../../c1z/writer.js';
import { heartbeatMs } from '../backoff.js';
import { describeC1Error, type TaskContext, type TaskResult } from '../daemon.js';
import { taskCancelled, TaskError } from '../task-error.js';
import type { ServiceMetrics } from '../ops/index.js';

export interface FullSyncOptions {
  /** A Coupa client for one sync, aborted with the task. */
  coupaClient: (signal: AbortSignal) => SyncClient;
  /** --skip-full-sync: upload an empty sync, as baton does. */
  skipFullSync?: boolean;
  skipAccountGroups?: boolean;
  /** --c1z-temp-dir; the OS temp dir by default. */
  tempDir?: string;
  metrics?: ServiceMetrics;
}

/** After this many heartbeats in a row fail, the task is given up (baton-sdk: the 10th attempt). */
const MAX_HEARTBEAT_FAILURES = 9;

export function heartbeatFailed(): TaskError {
  return new TaskError('context canceled: heartbeats to ConductorOne kept failing', { nonRetryable: false });
}

/**
 * A full sync task: first heartbeat, then the sync into a fresh temp c1z while heartbeats keep
 * the task alive (a `cancelled` answer aborts the sync), then the upload. The temp folder is
 * removed whatever happens.
 */
export function fullSyncHandler(opts: FullSyncOptions) {
  return async (ctx: TaskContext): Promise<TaskResult> => {
    const { client, logger, taskId } = ctx;
    // baton: if the first heartbeat fails or says cancelled, the task ends without FinishTask.
    let first;
    try {
      first = await client.heartbeat(taskId, ctx.signal);
    } catch (err) {
      logger.warn({ err: describeC1Error(err) }, 'first heartbeat failed; leaving the task to ConductorOne');
      return { skipFinish: true };
    }
    if (first.cancelled) return { skipFinish: true };

    // Before the heartbeats start: a failure here must not leave them beating after FinishTask.
    const dir = await makeSyncDir(opts.tempDir);
    const task = new AbortController();
    const forward = () => task.abort(ctx.signal.reason);
    ctx.signal.addEventListener('abort', forward, { once: true });
    const heartbeats = keepAlive(ctx, task, first.nextHeartbeatMs);
    const file = join(dir, 'sync.c1z');
    const started = Date.now();
    let synced = false;
    try {
      if (opts.skipFullSync) {
        await (await C1zWriter.create(file)).finish();
        logger.info('--skip-full-sync: uploading an empty sync');
      } else {
        const coupa = opts.coupaClient(task.signal);
        try {
          const summary = await syncToC1z({
            client: coupa,
            outPath: file,
            logger,
            signal: task.signal,
            skipAccountGroups: opts.skipAccountGroups,
          });
          logger.info(
            {
              users: summary.resources.user ?? 0,
              grants: summary.grants,
              requests: summary.requests,
              bytes: summary.bytes,
            },
            'sync complete; uploading',
          );
        } finally {
          const s = coupa.stats();
          opts.metrics?.addCoupaRequests(s.requests, s.throttled);
          opts.metrics?.observeSync((Date.now() - started) / 1000);
        }
      }
      synced = true;
      const up = await client.uploadAsset(taskId, file, task.signal);
      logger.info({ bytes: up.bytes, chunks: up.chunks }, 'c1z uploaded');
      return {};
    } catch (err) {
      if (task.signal.aborted && task.signal.reason instanceof TaskError) throw task.signal.reason;
      if (synced && !(err instanceof TaskError)) {
        throw new TaskError(`uploading the c1z failed: ${describeC1Error(err)}`, {
          nonRetryable: false,
          cause: err,
        });
      }
      throw err;
    } finally {
      heartbeats.stop();
      ctx.signal.removeEventListener('abort', forward);
      await rm(dir, { recursive: true, force: true });
    }
  };
}

/**
 * The sync's own folder in --c1z-temp-dir (or the OS temp dir). The folder was checked at start,
 * but it can vanish (a tmp cleaner, an unmounted volume) or fill up while the service runs.
 */
async function makeSyncDir(tempDir: string | undefined): Promise<string> {
  const parent = tempDir ?? tmpdir();
  try {
    return await mkdtemp(join(parent, 'coupa-connector-sync-'));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new TaskError(
      `cannot create the sync's temporary folder in ${parent} (${code}); ` +
        `the connector's c1z temp dir (--c1z-temp-dir, BATON_C1Z_TEMP_DIR; default the OS temp dir) ` +
        'must exist, be writable and have room for the c1z (about 4 KB per user)',
      { nonRetryable: false, cause: err },
    );
  }
}

/** Heartbeats at the interval the server asks for until stopped; cancel or 9 failures abort the task. */
function keepAlive(
  ctx: TaskContext,
  task: AbortController,
  firstNextMs: number | undefined,
): { stop(): void } {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let failures = 0;
  const schedule = (ms: number) => {
    if (stopped) return;
    timer = setTimeout(beat, ms);
  };
  let interval = heartbeatMs(firstNextMs);
  async function beat(): Promise<void> {
    try {
      const res = await ctx.client.heartbeat(ctx.taskId, task.signal);
      failures = 0;
      if (res.cancelled) {
        ctx.logger.info('ConductorOne cancelled the task; aborting the sync');
        task.abort(taskCancelled());
        return;
      }
      interval = heartbeatMs(res.nextHeartbeatMs);
    } catch (err) {
      if (stopped || task.signal.aborted) return;
      failures++;
      ctx.logger.warn({ err: describeC1Error(err), failures }, 'heartbeat failed');
      if (failures >= MAX_HEARTBEAT_FAILURES) {
        task.abort(heartbeatFailed());
        return;
      }
    }
    schedule(interval);
  }
  schedule(interval);
  return {
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}
