import { describe, expect, it } from 'vitest';
import {
  encodeTaskError,
  malformedTask,
  provisioningDisabled,
  shuttingDown,
  taskCancelled,
  TaskError,
  unsupportedTaskType,
} from '../../src/c1/task-error.js';
import { ConfigError } from '../../src/errors.js';
import { registerSecret } from '../../src/secrets.js';

describe('FinishTask error encoding (baton-sdk §5.8)', () => {
  it('provisioning disabled: code 9, the rpc error text, non-retryable marker', () => {
    expect(encodeTaskError(provisioningDisabled(), false)).toEqual({
      code: 9,
      message:
        'rpc error: code = FailedPrecondition desc = provisioning is not enabled\ntask failed and is non-retryable',
      nonRetryable: true,
    });
  });

  it('unsupported type: code 2, retryable even where the task type defaults to non-retryable', () => {
    expect(encodeTaskError(unsupportedTaskType('event_feed'), true)).toEqual({
      code: 2,
      message: 'unsupported task type: event_feed',
      nonRetryable: false,
    });
  });

  it('a plain error is code 2 with its text; the task type decides retry', () => {
    const e = encodeTaskError(new ConfigError('bad thing', 'do this'), true);
    expect(e).toEqual({
      code: 2,
      message: 'bad thing do this\ntask failed and is non-retryable',
      nonRetryable: true,
    });
    expect(encodeTaskError(new Error('boom'), false)).toEqual({
      code: 2,
      message: 'Error: boom',
      nonRetryable: false,
    });
  });

  it('malformed tasks are non-retryable; cancellation and shutdown are retryable Canceled', () => {
    expect(encodeTaskError(malformedTask('grant'), false)).toMatchObject({ code: 3, nonRetryable: true });
    expect(encodeTaskError(taskCancelled(), false)).toMatchObject({ code: 1, nonRetryable: false });
    expect(encodeTaskError(shuttingDown(), true)).toMatchObject({
      code: 1,
      nonRetryable: false,
      message: expect.stringMatching(/^rpc error: code = Canceled desc = context canceled/),
    });
  });

  it('never sends a registered secret to ConductorOne', () => {
    registerSecret('super-secret-value-123');
    const e = encodeTaskError(new TaskError('oops super-secret-value-123 leaked'), false);
    expect(e.message).not.toContain('super-secret-value-123');
  });
});
