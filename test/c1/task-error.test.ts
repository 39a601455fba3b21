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
import { ConfigError, formatError } from '../../src/errors.js';
import { CoupaUnavailableError } from '../../src/coupa/errors.js';
import { UnknownEntitlementError } from '../../src/connector/provisioning/index.js';
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
    const e = encodeTaskError(new ConfigError('bad thing', 'pass --this'), true);
    expect(e).toEqual({
      code: 2,
      message: 'bad thing\ntask failed and is non-retryable',
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

  it('ConductorOne gets what failed, not the command-line advice the CLI prints with it', () => {
    const entitlement = new UnknownEntitlementError('role:999:member', 'Coupa has no role 999');
    const coupaDown = new CoupaUnavailableError(
      'Gave up on GET /api/users/12 at https://acme.coupahost.com after 7 attempts (last failure: HTTP 503).',
      {
        hint: 'Coupa is unavailable or overloaded; try again later, or raise --max-retries / --request-timeout.',
      },
    );
    // The CLI prints the advice after the message.
    expect(formatError(entitlement)).toMatch(/coupa-connector entitlements -f sync\.c1z/);
    expect(formatError(coupaDown)).toMatch(/--max-retries/);
    for (const err of [entitlement, coupaDown]) {
      const { message } = encodeTaskError(err, true);
      expect(message).not.toMatch(/--[a-z]|coupa-connector /);
    }
    expect(encodeTaskError(entitlement, true).message).toBe(
      'Unknown entitlement "role:999:member": Coupa has no role 999.\ntask failed and is non-retryable',
    );
    expect(encodeTaskError(coupaDown, false).message).toBe(
      'Gave up on GET /api/users/12 at https://acme.coupahost.com after 7 attempts (last failure: HTTP 503).',
    );
  });

  it('never sends a registered secret to ConductorOne', () => {
    registerSecret('super-secret-value-123');
    const e = encodeTaskError(new TaskError('oops super-secret-value-123 leaked'), false);
    expect(e.message).not.toContain('super-secret-value-123');
  });
});
