import { describe, expect, it } from 'vitest';
import { decideRetry, DEFAULT_RETRY, type AttemptOutcome, type RetryState } from '../../src/coupa/retry.js';

/** The retry decision as a table: no server, no clock; jitter is pinned to its ceiling. */
const policy = { ...DEFAULT_RETRY, limit: 3, budget: 10, baseDelayMs: 100, maxDelayMs: 5_000 };
const top = () => 0.999999;
const fresh: RetryState = { retries: 0, budgetLeft: 10, idempotent: true };
const http = (status: number, retryAfterMs?: number): AttemptOutcome => ({
  kind: 'response',
  status,
  retryAfterMs,
});
const net = (retryable: boolean, sent: boolean): AttemptOutcome => ({ kind: 'network', retryable, sent });

describe('decideRetry', () => {
  const cases: Array<[string, AttemptOutcome, Partial<RetryState>, ReturnType<typeof decideRetry>]> = [
    ['200 is handed back', http(200), {}, { action: 'done' }],
    ['404 is handed back (the caller makes it an error)', http(404), {}, { action: 'done' }],
    ['400 to a POST is handed back', http(400), { idempotent: false }, { action: 'done' }],
    ['500 to a GET is retried after the backoff', http(500), {}, { action: 'retry', delayMs: 99 }],
    [
      '503 on the second retry waits twice as long at most',
      http(503),
      { retries: 2 },
      { action: 'retry', delayMs: 399 },
    ],
    ['500 to a POST is never repeated', http(500), { idempotent: false }, { action: 'done' }],
    [
      '429 to a POST is retried (the server did nothing)',
      http(429),
      { idempotent: false },
      { action: 'retry', delayMs: 99 },
    ],
    [
      '429 waits its Retry-After when longer than the backoff',
      http(429, 2_000),
      {},
      { action: 'retry', delayMs: 2_000 },
    ],
    [
      '429 waits the backoff when Retry-After is shorter',
      http(429, 10),
      { retries: 1 },
      { action: 'retry', delayMs: 199 },
    ],
    [
      'a Retry-After beyond the longest wait fails at once',
      http(429, 60_000),
      {},
      { action: 'fail', reason: 'retry-after-too-long' },
    ],
    [
      'the per-request limit ends the retries',
      http(502),
      { retries: 3 },
      { action: 'fail', reason: 'attempts' },
    ],
    [
      'an empty budget ends the retries before the limit',
      http(504),
      { budgetLeft: 0 },
      { action: 'fail', reason: 'budget' },
    ],
    [
      'the limit is named when both run out',
      http(500),
      { retries: 3, budgetLeft: 0 },
      { action: 'fail', reason: 'attempts' },
    ],
    ['a reset GET is retried', net(true, true), {}, { action: 'retry', delayMs: 99 }],
    [
      'a reset POST that was sent is not repeated',
      net(true, true),
      { idempotent: false },
      { action: 'fail', reason: 'not-retryable' },
    ],
    [
      'a refused POST connection is retried (nothing was sent)',
      net(true, false),
      { idempotent: false },
      { action: 'retry', delayMs: 99 },
    ],
    [
      'a failure that cannot pass (bad port) fails at once',
      net(false, false),
      {},
      { action: 'fail', reason: 'not-retryable' },
    ],
    [
      'network failures also respect the budget',
      net(true, true),
      { budgetLeft: 0 },
      { action: 'fail', reason: 'budget' },
    ],
  ];
  it.each(cases)('%s', (_name, outcome, state, expected) => {
    expect(decideRetry(outcome, { ...fresh, ...state }, policy, top)).toEqual(expected);
  });

  it('caps the backoff at the longest wait', () => {
    expect(
      decideRetry(http(500), { ...fresh, retries: 2 }, { ...policy, limit: 50, maxDelayMs: 150 }, top),
    ).toEqual({
      action: 'retry',
      delayMs: 149,
    });
  });

  it('draws the jitter from the whole range, down to no wait at all', () => {
    expect(decideRetry(http(500), fresh, policy, () => 0)).toEqual({ action: 'retry', delayMs: 0 });
  });
});
