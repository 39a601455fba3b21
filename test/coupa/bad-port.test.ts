import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { CoupaClient, CoupaDomainError } from '../../src/coupa/index.js';

describe('a port that fetch refuses outright', () => {
  it('fails at once as a configuration error (exit 2, nothing sent), without spending the retry budget', async () => {
    const client = new CoupaClient({
      baseUrl: 'http://127.0.0.1:1',
      clientId: 'id',
      clientSecret: 'secret-value',
      scopes: [],
      retry: { baseDelayMs: 10 },
    });
    const err = await client.get('/api/users', { schema: z.unknown() }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(CoupaDomainError);
    expect((err as CoupaDomainError).exitCode).toBe(2);
    expect((err as Error).message).toContain('127.0.0.1:1');
    expect((err as CoupaDomainError).hint).not.toMatch(/may have reached/);
    expect(client.stats().retries).toBe(0);
  });
});
