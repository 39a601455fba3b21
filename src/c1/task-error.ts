import { Code } from '@connectrpc/connect';
import { CoupaConnectorError, formatError } from '../errors.js';
import { redact } from '../secrets.js';

/**
 * How a task ends badly, and how that is told to ConductorOne (baton-sdk's FinishTask encoding):
 * `status{code, message}` plus `error{non_retryable}`. A retryable error puts the task back in
 * ConductorOne's queue; a non-retryable one ends it.
 */
export class TaskError extends Error {
  /** The gRPC status this error carries; undefined = a plain error (code 2, Unknown). */
  readonly code?: Code;
  readonly nonRetryable?: boolean;

  constructor(message: string, opts: { code?: Code; nonRetryable?: boolean; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'TaskError';
    this.code = opts.code;
    this.nonRetryable = opts.nonRetryable;
  }
}

/** What baton connectors answer to a write without --provisioning (their no-op provisioner). */
export function provisioningDisabled(): TaskError {
  return new TaskError('provisioning is not enabled', { code: Code.FailedPrecondition, nonRetryable: true });
}

export function unsupportedTaskType(type: string): TaskError {
  return new TaskError(`unsupported task type: ${type}`, { nonRetryable: false });
}

export function malformedTask(what: string): TaskError {
  return new TaskError(`malformed ${what} task`, { code: Code.InvalidArgument, nonRetryable: true });
}

/** A heartbeat answered cancelled=true. */
export function taskCancelled(): TaskError {
  return new TaskError('context canceled: ConductorOne cancelled the task', {
    code: Code.Canceled,
    nonRetryable: false,
  });
}

/** The daemon stopped before the task finished; retryable so another poller picks it up. */
export function shuttingDown(): TaskError {
  return new TaskError('context canceled: the connector is shutting down', {
    code: Code.Canceled,
    nonRetryable: false,
  });
}

/** Go's codes.Code String(): the names in `rpc error: code = … desc = …`. */
const GO_CODE_NAMES: Record<number, string> = {
  [Code.Canceled]: 'Canceled',
  [Code.Unknown]: 'Unknown',
  [Code.InvalidArgument]: 'InvalidArgument',
  [Code.DeadlineExceeded]: 'DeadlineExceeded',
  [Code.NotFound]: 'NotFound',
  [Code.AlreadyExists]: 'AlreadyExists',
  [Code.PermissionDenied]: 'PermissionDenied',
  [Code.ResourceExhausted]: 'ResourceExhausted',
  [Code.FailedPrecondition]: 'FailedPrecondition',
  [Code.Aborted]: 'Aborted',
  [Code.OutOfRange]: 'OutOfRange',
  [Code.Unimplemented]: 'Unimplemented',
  [Code.Internal]: 'Internal',
  [Code.Unavailable]: 'Unavailable',
  [Code.DataLoss]: 'DataLoss',
  [Code.Unauthenticated]: 'Unauthenticated',
};

export const NON_RETRYABLE_SUFFIX = '\ntask failed and is non-retryable';

export interface EncodedTaskError {
  code: number;
  message: string;
  nonRetryable: boolean;
}

/**
 * §5.8 of the protocol: an error carrying a gRPC status keeps its code and reads
 * `rpc error: code = <Name> desc = <text>`; any other error is code 2 (Unknown) with its text
 * (for our own errors, the message without the command-line hint).
 * A non-retryable error's message ends with baton's `\ntask failed and is non-retryable`.
 * `defaultNonRetryable` is the task type's rule (writes: true; sync: false) unless the error says.
 * The text goes to ConductorOne, so it is scrubbed of every registered secret.
 */
export function encodeTaskError(err: unknown, defaultNonRetryable: boolean): EncodedTaskError {
  const nonRetryable =
    err instanceof TaskError && err.nonRetryable !== undefined ? err.nonRetryable : defaultNonRetryable;
  let code: number = Code.Unknown;
  let text: string;
  if (err instanceof TaskError && err.code !== undefined) {
    code = err.code;
    text = `rpc error: code = ${GO_CODE_NAMES[code] ?? String(code)} desc = ${err.message}`;
  } else if (err instanceof TaskError || err instanceof CoupaConnectorError) {
    // Our errors' hints are advice for the command line (flags, commands to run); ConductorOne
    // gets what failed, which is the message.
    text = err.message;
  } else {
    text = formatError(err);
  }
  const message = redact(text) + (nonRetryable ? NON_RETRYABLE_SUFFIX : '');
  return { code, message, nonRetryable };
}
