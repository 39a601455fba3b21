import { create } from '@bufbuild/protobuf';
import type { Any } from '@bufbuild/protobuf/wkt';
import { Code, ConnectError } from '@connectrpc/connect';
import { withLogContext, type Logger } from '../log.js';
import { formatError } from '../errors.js';
import { redact } from '../secrets.js';
import { errorBackoffMs, helloBackoffMs, nextPollMs, pause, POLL_FLOOR_MS } from './backoff.js';
import type { C1Client } from './client.js';
import { C1AuthError, C1UnavailableError } from './errors.js';
import { BatonServiceFinishTaskRequestSchema, type BatonServiceHelloRequest, type Task } from './messages.js';
import {
  encodeTaskError,
  provisioningDisabled,
  shuttingDown,
  TaskError,
  unsupportedTaskType,
} from './task-error.js';
import type { ServiceMetrics, TaskOutcome } from './ops/index.js';

/** What a handler gets: the task, a signal that aborts on cancel or hard stop, a logger naming the task. */
export interface TaskContext {
  task: Task;
  taskId: string;
  /** ConductorOne's name of the task type: full_sync, grant, revoke, create_account, … */
  type: string;
  signal: AbortSignal;
  logger: Logger;
  client: C1Client;
}

/** A handler's success: FinishTask(success{response, annotations}); `skipFinish` sends nothing. */
export interface TaskResult {
  response?: Any;
  annotations?: Any[];
  /** baton sends no FinishTask when the first heartbeat fails or cancels a sync. */
  skipFinish?: boolean;
}

export type TaskHandler = (ctx: TaskContext) => Promise<TaskResult>;

export type HandledTaskType = 'syncFull' | 'grant' | 'revoke' | 'createAccount';

/** Task types the loop runs (hello is answered by a Hello); anything else is unsupported. */
const RUNNABLE_TASKS: ReadonlySet<string> = new Set([
  'hello',
  'syncFull',
  'grant',
  'revoke',
  'createAccount',
]);

/** The write tasks -p gates; their failures are non-retryable, as in baton. */
const WRITE_TASKS: ReadonlySet<string> = new Set(['grant', 'revoke', 'createAccount']);

export interface DaemonOptions {
  client: C1Client;
  handlers: Record<HandledTaskType, TaskHandler>;
  provisioning: boolean;
  /** Tasks run at once; no polling while all slots are busy (baton: 3). */
  concurrency: number;
  /** After a stop request, how long running tasks may take before they are ended as retryable. */
  shutdownTimeoutMs: number;
  /** Aborted on SIGTERM/SIGINT: stop polling, then wind down. */
  stop: AbortSignal;
  logger: Logger;
  metrics?: ServiceMetrics;
  hello: (taskId: string) => BatonServiceHelloRequest;
  /** Called once the startup Hello was accepted (readiness). */
  onReady?: () => void;
  pollFloorMs?: number;
}

/** ConductorOne's task type names (baton-sdk's TaskType strings), used in logs and metrics. */
export function taskTypeName(task: Task): string {
  const c = task.taskType.case;
  if (c === undefined) return 'none';
  if (c === 'syncFull') return 'full_sync';
  if (c === 'createTicketTask') return 'create_ticket';
  return c.replace(/[A-Z]/g, (m) => `_${m.toLowerCase()}`);
}

/**
 * Connect wraps whatever an interceptor throws (our token errors) in a ConnectError with code
 * Unknown; the typed error underneath is the one that says what happened.
 */
export function unwrapC1Error(err: unknown): unknown {
  if (err instanceof ConnectError && err.cause instanceof Error && !(err.cause instanceof ConnectError)) {
    return err.cause;
  }
  return err;
}

function isAuthRefusal(thrown: unknown): boolean {
  const err = unwrapC1Error(thrown);
  if (err instanceof C1AuthError) return true;
  if (err instanceof ConnectError)
    return err.code === Code.Unauthenticated || err.code === Code.PermissionDenied;
  return false;
}

/** Codes that no retry will change (baton-sdk HEAD's Bootstrap gives up on these too). */
function isPermanentHelloError(thrown: unknown): boolean {
  const err = unwrapC1Error(thrown);
  if (!(err instanceof ConnectError)) return false;
  return [Code.InvalidArgument, Code.Unimplemented, Code.FailedPrecondition, Code.NotFound].includes(
    err.code,
  );
}

export function describeC1Error(thrown: unknown): string {
  const err = unwrapC1Error(thrown);
  if (err instanceof ConnectError) return `${Code[err.code] ?? err.code}: ${redact(err.rawMessage)}`;
  return redact(formatError(err));
}

/**
 * Says hello until ConductorOne answers; backs off on transient errors, gives up at once when the
 * credentials are refused (C1AuthError, exit 3) or the request itself is rejected.
 */
export async function startupHello(opts: DaemonOptions): Promise<boolean> {
  for (let attempt = 0; !opts.stop.aborted; attempt++) {
    try {
      await opts.client.hello(opts.hello(''), opts.stop);
      return true;
    } catch (err) {
      if (opts.stop.aborted) return false;
      if (isAuthRefusal(err)) {
        const cause = unwrapC1Error(err);
        if (cause instanceof C1AuthError) throw cause;
        throw new C1AuthError(`ConductorOne refused the connector's credentials (${describeC1Error(err)}).`);
      }
      if (isPermanentHelloError(err)) {
        throw new C1UnavailableError(
          `ConductorOne rejected the connector's Hello (${describeC1Error(err)}).`,
          {
            hint: 'This connector version may not match what ConductorOne expects; see docs/service-mode.md.',
          },
        );
      }
      const wait = helloBackoffMs(attempt);
      opts.logger.warn(
        { err: describeC1Error(err), retryInSeconds: wait / 1000, host: opts.client.endpoint.origin },
        'ConductorOne Hello failed; retrying',
      );
      await pause(wait, opts.stop);
    }
  }
  return false;
}

/**
 * Service mode's main loop, as baton-sdk runs it: Hello, then poll for tasks while a slot is
 * free, run each in the background, report each with FinishTask. Returns after a stop request once
 * every task has finished or has been ended as retryable. Rejects with C1AuthError (exit 3) when
 * the token endpoint refuses the credentials for good (revoked or rotated in ConductorOne), after
 * the same wind-down.
 */
export async function runDaemon(opts: DaemonOptions): Promise<void> {
  const { client, logger, stop } = opts;
  if (!(await startupHello(opts))) {
    // Stopped before ConductorOne ever answered: still say so, as after a normal run.
    client.close();
    logger.info('service mode stopped');
    return;
  }
  logger.info(
    { host: client.endpoint.origin, hostId: client.hostId },
    'ConductorOne accepted the connector; polling for tasks',
  );
  opts.onReady?.();

  /** Aborted when the grace period after a stop request is over: tasks still running end then. */
  const hardStop = new AbortController();
  const running = new Set<Promise<void>>();
  let slotFreed: (() => void) | undefined;
  let errors = 0;
  let refused: C1AuthError | undefined;
  /** Unsupported tasks handed out in a row: ConductorOne re-queues them, as baton answers them retryable. */
  let unsupported = 0;
  let wait = 0;

  while (!stop.aborted) {
    if (wait > 0) await pause(wait, stop);
    if (stop.aborted) break;
    while (running.size >= opts.concurrency && !stop.aborted) {
      await new Promise<void>((resolve) => {
        const done = () => {
          stop.removeEventListener('abort', done);
          slotFreed = undefined;
          resolve();
        };
        slotFreed = done;
        stop.addEventListener('abort', done, { once: true });
      });
    }
    if (stop.aborted) break;
    let polled;
    try {
      polled = await client.getTask(stop);
    } catch (err) {
      if (stop.aborted) break;
      const cause = unwrapC1Error(err);
      if (cause instanceof C1AuthError && cause.credentialsRefused) {
        // Revoked or rotated: no retry helps. Wind down, then end the process with exit 3.
        refused = cause;
        break;
      }
      errors++;
      wait = errorBackoffMs(errors);
      if (isAuthRefusal(err)) client.tokens.invalidate();
      logger.warn(
        { err: describeC1Error(err), consecutiveErrors: errors, retryInSeconds: wait / 1000 },
        'polling ConductorOne for a task failed; backing off',
      );
      continue;
    }
    if (errors > 0) logger.info({ afterErrors: errors }, 'ConductorOne reachable again');
    errors = 0;
    const floorMs = opts.pollFloorMs ?? POLL_FLOOR_MS;
    const runnable = polled.task !== undefined && RUNNABLE_TASKS.has(polled.task.taskType.case ?? '');
    unsupported = polled.task && !runnable ? unsupported + 1 : 0;
    // After a task we cannot run, poll as after an idle one, and back off further while the same
    // kind keeps coming back; otherwise a re-queued one would come round every 50 ms.
    wait =
      unsupported > 0
        ? Math.max(nextPollMs(polled.nextPollMs, false, floorMs), errorBackoffMs(unsupported))
        : nextPollMs(polled.nextPollMs, runnable, floorMs);
    if (!polled.task) continue;
    const task = polled.task;
    // Every line logged while the task runs names it, also from code handed no task logger.
    const fields = { task_id: task.id, task_type: taskTypeName(task) };
    const run = withLogContext(fields, () => runTask(opts, task, hardStop.signal)).finally(() => {
      running.delete(run);
      slotFreed?.();
    });
    running.add(run);
  }

  if (running.size > 0) {
    logger.info(
      { tasks: running.size, graceSeconds: opts.shutdownTimeoutMs / 1000 },
      'stopping: waiting for running tasks to finish',
    );
    const timer = setTimeout(() => hardStop.abort(shuttingDown()), opts.shutdownTimeoutMs);
    await Promise.allSettled([...running]);
    clearTimeout(timer);
  }
  client.close();
  // The caller reports a refusal as the process's one error line (and exit code 3).
  if (refused) throw refused;
  logger.info('service mode stopped');
}

async function runTask(opts: DaemonOptions, task: Task, hardStop: AbortSignal): Promise<void> {
  const type = taskTypeName(task);
  const logger = opts.logger.child({ task_id: task.id, task_type: type });
  const controller = new AbortController();
  const onHardStop = () => controller.abort(hardStop.reason);
  if (hardStop.aborted) onHardStop();
  else hardStop.addEventListener('abort', onHardStop, { once: true });
  const ctx: TaskContext = {
    task,
    taskId: task.id,
    type,
    signal: controller.signal,
    logger,
    client: opts.client,
  };
  const started = Date.now();
  logger.info('task started');
  let outcome: TaskOutcome = 'success';
  try {
    const c = task.taskType.case;
    if (c === 'hello') {
      // A hello task is answered by a Hello carrying its id, and never finished (baton).
      await opts.client.hello(opts.hello(task.id), controller.signal);
      logger.info('answered a hello task');
      return;
    }
    let result: TaskResult;
    const writes = c !== undefined && WRITE_TASKS.has(c);
    try {
      if (c === 'syncFull' || c === 'grant' || c === 'revoke' || c === 'createAccount') {
        if (writes && !opts.provisioning) throw provisioningDisabled();
        result = await opts.handlers[c](ctx);
      } else {
        throw unsupportedTaskType(type);
      }
    } catch (thrown) {
      // The abort reason (cancel, shutdown) says more than whatever the aborted work threw.
      const err =
        controller.signal.aborted && controller.signal.reason instanceof TaskError
          ? controller.signal.reason
          : thrown;
      const encoded = encodeTaskError(err, writes);
      outcome =
        err instanceof TaskError &&
        err.code === Code.FailedPrecondition &&
        err.message === 'provisioning is not enabled'
          ? 'not_permitted'
          : err instanceof TaskError && err.message.startsWith('unsupported task type')
            ? 'unsupported'
            : err instanceof TaskError && err.code === Code.Canceled
              ? 'cancelled'
              : 'error';
      // The one line for this failure (service mode puts provisioning's own record at debug).
      logger[encoded.nonRetryable ? 'error' : 'warn'](
        {
          code: encoded.code,
          nonRetryable: encoded.nonRetryable,
          err: redact(err instanceof TaskError ? err.message : formatError(err)),
        },
        'task failed',
      );
      const told = await finish(opts, logger, task.id, {
        status: { code: encoded.code, message: encoded.message },
        finalState: { case: 'error', value: { nonRetryable: encoded.nonRetryable } },
      });
      if (!told) outcome = 'finish_failed';
      return;
    }
    if (result.skipFinish) {
      outcome = 'cancelled';
      logger.info('task ended without FinishTask (cancelled or unreachable at its first heartbeat)');
      return;
    }
    const ok = await finish(opts, logger, task.id, {
      finalState: {
        case: 'success',
        value: { response: result.response, annotations: result.annotations ?? [] },
      },
    });
    // ConductorOne never heard of the result: it will time the task out, so it did not succeed.
    if (!ok) {
      outcome = 'finish_failed';
      return;
    }
    if (c === 'syncFull') opts.metrics?.markSyncSuccess(new Date());
    logger.info({ durationMs: Date.now() - started }, 'task finished');
  } catch (err) {
    outcome = 'error';
    logger.error({ err: describeC1Error(err) }, 'task failed outside its handler');
  } finally {
    hardStop.removeEventListener('abort', onHardStop);
    opts.metrics?.recordTask(type, outcome);
  }
}

/** A failed FinishTask is logged and not retried (the task stays open in ConductorOne), as baton does. */
async function finish(
  opts: DaemonOptions,
  logger: Logger,
  taskId: string,
  init: Parameters<typeof create<typeof BatonServiceFinishTaskRequestSchema>>[1],
): Promise<boolean> {
  try {
    await opts.client.finishTask(create(BatonServiceFinishTaskRequestSchema, { ...init, taskId }));
    return true;
  } catch (err) {
    logger.error({ err: describeC1Error(err) }, 'FinishTask failed; ConductorOne will time the task out');
    return false;
  }
}
