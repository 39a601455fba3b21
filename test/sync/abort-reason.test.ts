import { describe, expect, it } from 'vitest';
import { syncToC1z, type SyncClient } from '../../src/connector/sync.js';
import { InterruptedError } from '../../src/errors.js';

describe('a sync stopped by its caller', () => {
  it('rejects with the caller’s InterruptedError, so the signal name reaches library users', async () => {
    const ac = new AbortController();
    const stop = new InterruptedError('SIGTERM');
    ac.abort(stop);
    const client = {} as SyncClient; // never reached: the sync checks the signal first
    const err = await syncToC1z({ client, outPath: '/nonexistent/never.c1z', signal: ac.signal }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBe(stop);
    expect((err as Error).message).toContain('SIGTERM');
  });
});
